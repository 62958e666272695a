"""Fixtures shared by the controls of every profile."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from deploycheck.control import first_host
from deploycheck.inventory.loader import Host, Inventory
from deploycheck.inventory.variables import expect
from deploycheck.report.redact import remember
from deploycheck.transport.http import Client
from deploycheck.transport.remote import reachability, testinfra_host

from .proxy_checks import Proxy
from .rendering import Rendering, read_rendering

if TYPE_CHECKING:
    import testinfra.host


@pytest.fixture
def host(node: Host) -> testinfra.host.Host:
    """The testinfra host of the control's inventory host (docker, ssh or local).
    An unreachable host ends each of its controls as an error with one line.
    Defined here, not in the plugin, so it takes precedence over testinfra's own
    ``host`` fixture when testinfra's plugin is loaded too."""
    cause = reachability(node)
    if cause is not None:
        pytest.fail(cause, pytrace=False)
    return testinfra_host(node)


@pytest.fixture(scope="session")
def proxy_node(inventory: Inventory) -> Host:
    return first_host(inventory, "proxy")


@pytest.fixture(scope="session")
def proxy_client(proxy_node: Host) -> Client:
    """HTTP client for the public site, as an anonymous visitor reaches it."""
    return Client(expect(proxy_node, "public_url"), float(expect(proxy_node, "http_timeout")))


@pytest.fixture(scope="session")
def public_cookies(proxy_client: Client, proxy_node: Host) -> dict[str, str]:
    """The cookie an anonymous visitor gets from the public user's auto-login
    (an uncached page passes OMERO.web's Set-Cookie through)."""
    name = expect(proxy_node, "session_cookie_name")
    sent = proxy_client.get(expect(proxy_node, "public_entry_path"))
    value = sent.response.cookies.get(name)
    remember(value)
    if not value:
        pytest.fail(f"{proxy_node.name}: anonymous visit of {expect(proxy_node, 'public_entry_path')} "
                    f"gave status {sent.response.status_code} and no '{name}' cookie (public user disabled?)")
    return {name: value}


@pytest.fixture
def proxy(node: Host, proxy_node: Host, proxy_client: Client) -> Proxy:
    """Requests through the public proxy as an anonymous visitor, on URLs new
    to its cache, and the cache status of each (see ``proxy_checks``)."""
    return Proxy(node, proxy_node, proxy_client)


@pytest.fixture(scope="session")
def test_rendering(proxy_node: Host, proxy_client: Client, public_cookies: dict[str, str]) -> Rendering:
    """The inventory's test_image as a viewer sees it, to send full renders:
    read once per process (a request per render control would cost a round trip each)."""
    viewer = Proxy(proxy_node, proxy_node, proxy_client).with_cookies(public_cookies)
    return read_rendering(viewer, int(expect(proxy_node, "test_image")["id"]))
