"""ome/ansible-role-nginx-proxy (IDR blocks /django_prometheus): OMERO.web's
metrics stay off the public site."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control

if TYPE_CHECKING:
    from deploycheck.facts.proxy import Proxy
    from deploycheck.inventory.loader import Node

pytestmark = pytest.mark.hosts("proxy")
READS = ()


@control("IDR-PROM-01", "OMERO.web's Prometheus endpoint is not public", "medium",
         "ome/ansible-role-nginx-proxy (IDR blocks /django_prometheus)")
def test_django_prometheus_blocked(node: Node, proxy: Proxy) -> None:
    """The metrics describe the servers' internals and load; anyone could
    scrape them, and each scrape costs OMERO.web work."""
    r = proxy.send("/django_prometheus/metrics").response
    assert r.status_code == 404, f"{node.name}: /django_prometheus/metrics answered {r.status_code}; expected 404"
