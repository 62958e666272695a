"""Seed 000, idr-proxy: the proxy's nginx configuration on disk is valid, so
the next reload or reboot brings the site back."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control

if TYPE_CHECKING:
    import testinfra.host

    from deploycheck.inventory.loader import Node

pytestmark = pytest.mark.hosts("proxy")
READS = ()


@control("IDR-NGINX-01", "The proxy's nginx configuration passes nginx -t", "high", "seed 000: idr-proxy")
def test_nginx_config_valid(node: Node, host: testinfra.host.Host) -> None:
    """A broken file on disk makes the next reload or reboot take the site down."""
    result = host.run("nginx -t")
    last = (result.stderr.strip().splitlines() or ["?"])[-1]
    assert result.rc == 0, f"{node.name}: nginx -t failed: {last}"
