"""Fixtures of the render controls: requests through the public proxy with
the public user's session, each on a URL new to the cache."""

from __future__ import annotations

import pytest

from ..proxy_checks import Proxy


@pytest.fixture
def public_proxy(proxy: Proxy, public_cookies: dict[str, str]) -> Proxy:
    """``proxy`` sending the public user's session cookie unless a request
    names its own cookies (``cookies={}``: none)."""
    return proxy.with_cookies(public_cookies)
