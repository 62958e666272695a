"""Fixtures shared by the controls of every profile."""

from __future__ import annotations

import pytest

from deploycheck.control import first_host
from deploycheck.inventory.loader import Host, Inventory
from deploycheck.inventory.variables import expect
from deploycheck.report.redact import remember
from deploycheck.transport.http import Client
from deploycheck.transport.remote import reachability, testinfra_host


@pytest.fixture
def host(node: Host):  # -> testinfra.host.Host
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
def proxy_client(proxy_node) -> Client:  # noqa: ANN001
    """HTTP client for the public site, as an anonymous visitor reaches it."""
    return Client(expect(proxy_node, "public_url"), float(expect(proxy_node, "http_timeout")))


@pytest.fixture(scope="session")
def public_cookies(proxy_client: Client, proxy_node) -> dict[str, str]:  # noqa: ANN001
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


@pytest.fixture(scope="session")
def cache_status(proxy_node):  # noqa: ANN001, ANN201
    """How the proxy served one request (MISS, HIT, ...): from the debug
    header when the inventory says it is on, else from the access log."""
    from deploycheck.facts.accesslog import entry_for
    from deploycheck.transport.remote import testinfra_host

    header = expect(proxy_node, "cache_status_header")
    log_path = expect(proxy_node, "proxy_access_log")

    def status(sent) -> str:  # noqa: ANN001
        if header:
            return sent.response.headers.get(header, "-")
        return entry_for(testinfra_host(proxy_node), log_path, sent.marker).cache

    return status
