"""Fixtures shared by the controls of every profile."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from deploycheck.control import first_host
from deploycheck.facts import rendering
from deploycheck.facts.proxy import Proxy, site_client
from deploycheck.facts.question import ask
from deploycheck.facts.rendering import Rendering
from deploycheck.inventory.loader import Inventory, Node
from deploycheck.transport.http import Client
from deploycheck.transport.remote import testinfra_host

if TYPE_CHECKING:
    import testinfra.host


@pytest.fixture
def host(node: Node) -> testinfra.host.Host:
    """The testinfra host of the control's inventory host (docker, ssh or local);
    the plugin does not check a control taking it whose host is unreachable.
    Defined here, not in the plugin, so it takes precedence over testinfra's own
    ``host`` fixture when testinfra's plugin is loaded too."""
    return testinfra_host(node)


@pytest.fixture(scope="session")
def proxy_node(inventory: Inventory) -> Node:
    return first_host(inventory, "proxy")


@pytest.fixture(scope="session")
def proxy_client(proxy_node: Node) -> Client:
    """HTTP client for the public site, as an anonymous visitor reaches it."""
    return site_client(proxy_node)


@pytest.fixture(scope="session")
def public_cookies(proxy_node: Node) -> dict[str, str]:
    """The cookie an anonymous visitor gets from the public user's auto-login."""
    return ask(rendering.public_cookies, proxy_node)


@pytest.fixture
def proxy(node: Node, proxy_node: Node, proxy_client: Client) -> Proxy:
    """Requests through the public proxy as an anonymous visitor, on URLs new
    to its cache, and the cache status of each (see ``deploycheck.facts.proxy``)."""
    return Proxy(node, proxy_node, proxy_client)


@pytest.fixture(scope="session")
def test_rendering(proxy_node: Node) -> Rendering:
    """The inventory's test_image as a viewer sees it, to send full renders:
    read once per process (a request per render control would cost a round trip each)."""
    return ask(rendering.test_rendering, proxy_node)
