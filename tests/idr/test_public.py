"""Seed 000: the IDR appears as a read-only resource to public users, who
browse it without an account."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control

if TYPE_CHECKING:
    from deploycheck.facts.proxy import Proxy
    from deploycheck.inventory.loader import Node

pytestmark = pytest.mark.hosts("proxy")
READS = ()


@control("IDR-PUBLIC-01", "Anonymous visitors get working pages from the public site", "critical",
         "seed 000: The IDR appears as a read-only resource to public users")
def test_public_pages(node: Node, proxy: Proxy, public_cookies: dict[str, str]) -> None:
    """The public site is the IDR for almost all of its users; its pages
    must list the data for a visitor with the public user's session."""
    r = proxy.send("/webclient/", public_cookies).response
    assert r.status_code == 200, f"{node.name}: /webclient/ answered {r.status_code} to an anonymous visitor"
    assert "Dataset" in r.text, f"{node.name}: /webclient/ lists no dataset for the public user"
