"""Fixtures of the render controls: requests through the public proxy with
the public user's session, each on a URL new to the cache.

A file whose controls each send requests that depend on nothing but the
inventory and the test image's rendering settings lists them in ``AHEAD``
(control name: its requests); the first of its controls that a process runs
fetches those of every selected control at the same time (see
``Proxy.fetch_ahead``), and each control takes its own answers."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from deploycheck.inventory.loader import RenderError

from ..proxy_checks import Ahead, Proxy

if TYPE_CHECKING:
    from deploycheck.inventory.loader import Host

    from ..rendering import Rendering

AheadOf = Callable[["Host", "Rendering"], "list[str | Ahead]"]  # a control's requests (a path: the public cookie)
_FETCHED_FOR: set[str] = set()  # files whose requests this process has fetched ahead


@pytest.fixture
def public_proxy(request: pytest.FixtureRequest, proxy: Proxy, public_cookies: dict[str, str]) -> Proxy:
    """``proxy`` sending the public user's session cookie unless a request
    names its own cookies (``cookies={}``: none); the file's requests
    fetched ahead, once per process, when it lists them."""
    public = proxy.with_cookies(public_cookies)
    ahead: dict[str, AheadOf] | None = getattr(request.module, "AHEAD", None)
    if ahead and request.module.__name__ not in _FETCHED_FOR:
        _FETCHED_FOR.add(request.module.__name__)
        _fetch_ahead(request, public, ahead)
    return public


def _fetch_ahead(request: pytest.FixtureRequest, public: Proxy, ahead: dict[str, AheadOf]) -> None:
    """The requests of the file's controls selected in this run, for every
    host they run on; one whose requests cannot be built (an inventory value
    missing, malformed or unrenderable) sends its own, and reports why."""
    try:
        rendering: Rendering = request.getfixturevalue("test_rendering")
    except (pytest.fail.Exception, OSError, ValueError):  # imgData unreadable: its controls report it
        return
    asked: list[Ahead] = []
    for item in request.session.items:
        make = ahead.get(getattr(item, "originalname", "")) if getattr(item, "module", None) is request.module else None
        node = getattr(item, "callspec", None) and item.callspec.params.get("node")
        if make is None or node is None:
            continue
        with contextlib.suppress(AssertionError, KeyError, TypeError, ValueError, RenderError):
            asked += [(one, None) if isinstance(one, str) else one for one in make(node, rendering)]
    if asked:  # the answers are keyed by the proxy host and site, which every control of the file shares
        public.fetch_ahead(asked)
