"""ome/ansible-role-nginx-proxy (IDR): the proxy lets pages of any origin
use the images and data it serves (Access-Control-Allow-Origin: *)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control
from deploycheck.inventory.variables import expect

if TYPE_CHECKING:
    from deploycheck.facts.proxy import Proxy
    from deploycheck.inventory.loader import Node

pytestmark = pytest.mark.hosts("proxy")
READS = ("test_image",)


@control("IDR-CORS-01", "Proxied responses allow any origin (Access-Control-Allow-Origin: *)", "low",
         "ome/ansible-role-nginx-proxy (IDR)")
def test_cors(node: Node, proxy: Proxy, public_cookies: dict[str, str]) -> None:
    """External viewers and notebooks load IDR images from their own pages;
    without the header browsers refuse them."""
    r = proxy.get(f"/webgateway/render_thumbnail/{expect(node, 'test_image')['id']}/",
                  headers={"Origin": "https://viewer.example.org"})
    assert r.headers.get("Access-Control-Allow-Origin") == "*", \
        f"{node.name}: Access-Control-Allow-Origin is {r.headers.get('Access-Control-Allow-Origin')!r}"
