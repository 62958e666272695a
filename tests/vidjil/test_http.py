"""Seed 004, Network usage and SSL certificates: plain HTTP only sends
visitors on to HTTPS, on every path."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control
from deploycheck.inventory.variables import expect
from deploycheck.transport.http import Client

if TYPE_CHECKING:
    from deploycheck.inventory.loader import Node

pytestmark = pytest.mark.hosts("vidjil")
READS = ("vidjil_url", "http_timeout")

PATHS = ("/", "/vidjil/default/index", "/vidjil/default/user/login", "/browser/", "/germline/",
         "/admin/default/index", "/no/such/path")


@control("VIDJIL-HTTP-01", "Plain HTTP answers 301 to HTTPS on every path", "high",
         "seed 004: Network usage and SSL certificates")
def test_http_redirects(node: Node) -> None:
    """A page served over plain HTTP carries logins and patient data in
    clear text."""
    client = Client(expect(node, "vidjil_url"), float(expect(node, "http_timeout")))
    wrong = []
    for path in PATHS:
        r = client.get(path).response
        location = r.headers.get("Location", "")
        if r.status_code != 301 or not location.startswith("https://") or not location.endswith(path):
            wrong.append(f"{path} -> {r.status_code} {location or '(no Location)'}")
    assert not wrong, f"{node.name}: expected 301 to https for every path: " + "; ".join(wrong)
