"""HTTP for controls: no cookie jar, a timeout on every request, and a
unique marker in each request's User-Agent so the proxy's access log line of
exactly that request can be found."""

from __future__ import annotations

import itertools
import os
import re
import threading
import uuid
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from requests.cookies import RequestsCookieJar

from deploycheck import __version__
from deploycheck.inventory.urlpath import same_host
from deploycheck.transport.counters import COUNTERS
from deploycheck.transport.together import MAX_LIMIT

_counter = itertools.count(1)
_COUNT_LOCK = threading.Lock()
RUN_ID = uuid.uuid4().hex[:12]  # the run's: xdist workers adopt the controller's
_RUN_ID_SHAPE = re.compile(r"[0-9a-f]{12}")
MAX_BODY_BYTES = 32 << 20  # a response body read from a site, at most: a hostile site cannot exhaust memory


def adopt_run_id(value: object) -> None:
    """Take the controller's run id, so that what a marker of this run
    names the same in every worker is asked only once per run (see
    hostcurl.observation_command); anything else leaves this process's own."""
    global RUN_ID
    if isinstance(value, str) and _RUN_ID_SHAPE.fullmatch(value):
        RUN_ID = value


def next_marker() -> str:
    """A token unique to one request of this run, carried in its User-Agent."""
    return f"dc-{RUN_ID}-{os.getpid()}-{next(_counter)}"


def count_request() -> None:
    with _COUNT_LOCK:  # requests may be sent from several threads at once
        COUNTERS.http_requests += 1


class _NoCookies(RequestsCookieJar):
    """A jar that never stores: every request states its cookies explicitly."""

    def set_cookie(self, cookie: object, *args: object, **kwargs: object) -> None:
        return None

    def extract_cookies(self, response: object, request: object) -> None:
        return None


@dataclass
class Sent:
    response: requests.Response
    marker: str


class Client:
    """One keep-alive connection pool per base URL, keeping as many
    connections open as ``together`` sends requests at once (requests keeps
    10: over a slow link every burst past that opened new ones, a round
    trip each, and dropped them after); cookies only when passed."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        for scheme in ("http://", "https://"):  # as many kept open as requests are sent at once
            self.session.mount(scheme, HTTPAdapter(pool_connections=1, pool_maxsize=MAX_LIMIT))
        self.session.cookies = _NoCookies()
        self.session.trust_env = False

    def new_marker(self) -> str:
        return next_marker()

    def get(self, path: str, cookies: dict[str, str] | None = None, headers: dict[str, str] | None = None,
            method: str = "GET", **kwargs: Any) -> Sent:  # kwargs: more of requests' own arguments
        marker = self.new_marker()
        all_headers = {"User-Agent": f"deploycheck/{__version__} {marker}"} | (headers or {})
        count_request()
        url = self.base_url + path
        same_host(self.base_url, url)
        response = self.session.request(method, url, cookies=cookies, headers=all_headers, timeout=self.timeout,
                                        allow_redirects=False, stream=True, **kwargs)
        read_capped(response)
        return Sent(response, marker)

    def unique(self) -> str:
        """A query value that makes a URL new to every cache."""
        return self.new_marker()


class BodyTooLargeError(Exception):
    """A site answered with more than ``MAX_BODY_BYTES``; the rest is not read."""


def read_capped(response: requests.Response, limit: int | None = None) -> None:
    """Read a streamed response's body, at most ``limit`` bytes (default
    ``MAX_BODY_BYTES``), so ``.content``, ``.text`` and ``.json()`` work as
    usual; a longer body closes the connection and raises, in one line."""
    limit = MAX_BODY_BYTES if limit is None else limit
    body = bytearray()
    try:
        for chunk in response.iter_content(1 << 16):
            body += chunk
            if len(body) > limit:
                raise BodyTooLargeError(f"{response.request.method} {response.url[:120]}: the answer is larger "
                                        f"than {limit} bytes; not read further")
    finally:
        response.close()
    response._content = bytes(body)  # what requests keeps once it has read a body itself
    response._content_consumed = True  # type: ignore[attr-defined]  # set in Response.__init__; its stubs omit it


def set_cookie_value(response: requests.Response, name: str) -> str | None:
    """The value the response's Set-Cookie gives cookie ``name``, if any."""
    morsel = response.cookies.get(name)
    return morsel if isinstance(morsel, str) else None
