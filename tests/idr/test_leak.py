"""Seed 000, private tokens or views may inadvertently be cached: a page
OMERO.web renders for a logged-in user never reaches anyone else through
the proxy's cache."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control
from deploycheck.facts import hostfacts
from deploycheck.facts.omeroweb import backend_login
from deploycheck.inventory.variables import expect
from deploycheck.transport.remote import HostUnreachableError

if TYPE_CHECKING:
    from deploycheck.facts.proxy import Proxy
    from deploycheck.inventory.loader import Inventory, Node

pytestmark = pytest.mark.hosts("proxy")
READS = ("private_user", "private_password", "session_cookie_name")


def _serving_first(proxy: Proxy, backends: list[Node]) -> list[Node]:
    """The read-only servers, the one the proxy sends this client to first:
    asked of the access log (the upstream address of one request) and
    matched against the servers' own addresses. A login then usually
    happens once, not on server after server; unknown, the order stays."""
    if len(backends) < 2:
        return backends
    try:
        upstream = proxy.log_entry(proxy.send(proxy.fresh("/webclient/")).marker).upstream
        serving = [b for b in backends if upstream.rsplit(":", 1)[0] in hostfacts.addresses(b)]
    except (AssertionError, OSError, RuntimeError, HostUnreachableError):  # the loop below reports the cause
        return backends
    return serving[:1] + [b for b in backends if b not in serving[:1]]


@control("IDR-LEAK-01", "A page rendered for a logged-in user is never served to anonymous visitors", "critical",
         "seed 000: private tokens or views may inadvertently be cached")
def test_private_page_not_leaked(node: Node, proxy: Proxy, inventory: Inventory) -> None:
    """Logs in on a read-only server itself (never through the proxy), sends
    that session through the proxy, then asks for the same URL anonymously.
    Sessions live on one backend and the proxy keeps a client on one
    (ip_hash), so each read-only server is tried, the one the proxy's log
    names first, until the proxy shows the logged-in page."""
    user, password = expect(node, "private_user"), expect(node, "private_password")
    backends = inventory.group("omeroreadonly")
    if not user or not backends:
        pytest.skip(f"{node.name}: set private_user/private_password and list read-only servers")
    cookie = expect(node, "session_cookie_name")
    seen, shown = [], False
    for backend in _serving_first(proxy, backends):
        session_id = backend_login(backend, user, password, cookie)
        assert session_id, f"{backend.name}: login of {user} on the host's own OMERO.web failed"
        path = proxy.fresh("/webclient/")
        private = proxy.send(path, {cookie: session_id}).response
        seen.append(f"{backend.name}: {private.status_code}")
        shown = private.status_code == 200 and user in private.text
        if shown:
            break
    assert shown, f"{node.name}: no logged-in page named {user} through the proxy ({', '.join(seen)}); " \
                  "cannot judge a leak"
    anonymous = proxy.send(path).response
    assert user not in anonymous.text, f"{node.name}: an anonymous visitor got {user}'s page from the cache"
