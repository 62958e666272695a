"""Fixtures of the render controls: requests through the public proxy with
the public user's session, each on a URL new to the cache. The requests
the controls judge are questions (see deploycheck.facts.renders), asked
early by the planner."""

from __future__ import annotations

import pytest

from deploycheck.facts.proxy import Proxy


@pytest.fixture
def public_proxy(proxy: Proxy, public_cookies: dict[str, str]) -> Proxy:
    """``proxy`` sending the public user's session cookie unless a request
    names its own cookies (``cookies={}``: none)."""
    return proxy.with_cookies(public_cookies)
