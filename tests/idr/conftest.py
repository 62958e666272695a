"""Fixtures of the IDR host controls."""

from __future__ import annotations

import pytest

from deploycheck.control import first_host
from deploycheck.facts.accesslog import LogEntry
from deploycheck.facts.proxy import Proxy
from deploycheck.inventory.loader import Inventory, Node
from deploycheck.inventory.variables import expect
from deploycheck.transport import hostcurl
from deploycheck.transport.http import Client


@pytest.fixture(scope="session")
def outside(inventory: Inventory) -> Node:
    """The vantage point outside the private network (group ``outside``)."""
    return first_host(inventory, "outside")


@pytest.fixture(scope="session")
def busted(proxy_node: Node, proxy_client: Client,
           public_cookies: dict[str, str]) -> tuple[str, hostcurl.HostResponse, LogEntry]:
    """One request through the cache-buster, once the public user's session
    exists, for the IDR-BUSTER controls to read: its path (new to the cache),
    its answer and its access-log entry."""
    port = expect(proxy_node, "cachebuster_port")
    if not port:
        pytest.skip(f"{proxy_node.name}: inventory sets no cachebuster_port")
    proxy = Proxy(proxy_node, proxy_node, proxy_client)
    path = proxy.fresh(f"/api/v0/m/images/{expect(proxy_node, 'test_image')['id']}/")
    sent = hostcurl.loopback(proxy_node, port, path)
    return path, sent, proxy.log_entry(sent.marker)
