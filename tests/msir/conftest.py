"""Fixtures of the render controls: requests through the public proxy with
the public user's session, each on a URL new to the cache."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from deploycheck.transport.http import Client


@pytest.fixture(scope="session")
def fetch(proxy_client: Client, public_cookies: dict[str, str]) -> Callable[..., requests.Response]:
    """``fetch(path, cookies=..., headers=...)``: a fresh (uncached) request through the proxy."""

    def get(path: str, cookies: dict[str, str] | None = None, headers: dict[str, str] | None = None,
            method: str = "GET") -> requests.Response:
        sep = "&" if "?" in path else "?"
        jar = public_cookies if cookies is None else cookies
        return proxy_client.get(f"{path}{sep}dc={proxy_client.unique()}", cookies=jar, headers=headers,
                                method=method).response

    return get
