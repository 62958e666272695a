"""Requests through the public proxy and how its cache served each one
(MISS, HIT, BYPASS, ...), read for exactly that request: from the debug
header when the inventory turns it on, else from the access-log line
carrying the request's own marker."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

import requests

from deploycheck.facts.accesslog import LogEntry, LogLineNotFoundError, entry_for, lookup
from deploycheck.inventory.loader import Host
from deploycheck.inventory.variables import expect
from deploycheck.transport.http import Client, Sent
from deploycheck.transport.remote import testinfra_host
from deploycheck.transport.together import at_once

Twice = tuple[str, str, int]  # cache status of a first and a second request, the second's HTTP status
Ahead = tuple[str, "dict[str, str] | None"]  # a path, and the cookies sent with it (None: the proxy's own)
_AHEAD: dict[tuple, Twice | BaseException] = {}  # probes sent ahead, each taken once by its control
_FETCHED: dict[tuple, list[requests.Response | Exception]] = {}  # GETs sent ahead, each answer taken once
_AHEAD_LOCK = threading.Lock()


def _key(proxy: Proxy, path: str, cookies: dict[str, str] | None) -> tuple:
    sent = proxy.cookies if cookies is None else cookies
    return proxy.via.name, proxy.client.base_url, path, None if sent is None else tuple(sorted(sent.items()))


def _answer(pair: tuple[Sent, Sent], statuses: dict[str, str | BaseException]) -> Twice | BaseException:
    """A probe's ``twice`` answer from its two requests' statuses, or the error of either."""
    first, second = (statuses[s.marker] for s in pair)
    for status in (first, second):
        if isinstance(status, BaseException):
            return status
    return str(first), str(second), pair[1].response.status_code


@dataclass(frozen=True)
class Proxy:
    """``node`` is the control's host (named in messages), ``via`` the proxy
    host whose access log is read; ``cookies`` go with every request that
    names none (``{}`` sends none)."""

    node: Host
    via: Host
    client: Client
    cookies: dict[str, str] | None = None

    def with_cookies(self, cookies: dict[str, str]) -> Proxy:
        return replace(self, cookies=cookies)

    def fresh(self, path: str) -> str:
        """``path`` with a query value that makes it new to the cache."""
        sep = "&" if "?" in path else "?"
        return f"{path}{sep}dc={self.client.unique()}"

    def send(self, path: str, cookies: dict[str, str] | None = None, headers: dict[str, str] | None = None,
             method: str = "GET") -> Sent:
        """One request for ``path`` exactly as given."""
        return self.client.get(path, cookies=self.cookies if cookies is None else cookies, headers=headers,
                               method=method)

    def get(self, path: str, cookies: dict[str, str] | None = None, headers: dict[str, str] | None = None,
            method: str = "GET") -> requests.Response:
        """The answer to one request for ``path`` on a URL new to the cache
        (the answer of a GET fetched ahead for it, when there is one)."""
        if headers is None and method == "GET":
            with _AHEAD_LOCK:
                waiting = _FETCHED.get(_key(self, path, cookies))
                ahead = waiting.pop(0) if waiting else None
            if isinstance(ahead, Exception):
                raise ahead
            if ahead is not None:
                return ahead
        return self.send(self.fresh(path), cookies, headers, method).response

    def fetch_ahead(self, asked: list[Ahead]) -> None:
        """GET these paths now, all at the same time, each on its own URL new
        to the cache: the controls that ``get`` them later (same path and
        cookies) take the answers, each answer once; over a slow link a
        file's controls then wait about one round trip in all, not one each.
        A request that failed raises in the control that takes it."""
        def one(item: Ahead) -> requests.Response | Exception:
            try:
                return self.send(self.fresh(item[0]), item[1]).response
            except Exception as exc:  # the control that takes it raises it, as it would have
                return exc

        answers = at_once(one, asked, limit=len(asked))
        with _AHEAD_LOCK:
            for (path, cookies), answer in zip(asked, answers, strict=True):
                _FETCHED.setdefault(_key(self, path, cookies), []).append(answer)

    def get_all(self, paths: list[str], cookies: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> list[requests.Response]:
        """The answers to requests for several paths, each on a URL new to the
        cache, sent at the same time (they do not depend on each other)."""
        return at_once(lambda path: self.get(path, cookies, headers), paths)

    def log_entry(self, marker: str) -> LogEntry:
        """The proxy's access-log entry of the request carrying ``marker``."""
        return entry_for(testinfra_host(self.via), expect(self.via, "proxy_access_log"), marker)

    def status(self, sent: Sent) -> str:
        """How the proxy's cache served that request."""
        return self.statuses(sent)[0]

    def statuses(self, *sent: Sent) -> list[str]:
        """How the proxy's cache served each of those requests (the log read
        once); the first that cannot be read raises."""
        found = self.statuses_each(list(sent))
        for status in found:
            if isinstance(status, LogLineNotFoundError):
                raise status
        return found  # type: ignore[return-value]

    def statuses_each(self, sent: list[Sent]) -> list[str | LogLineNotFoundError]:
        """Like ``statuses``, but a request whose status cannot be read gets
        its error in its place (the log read once for requests that
        different controls judge)."""
        header = expect(self.via, "cache_status_header")
        if header:
            return [s.response.headers.get(header, "-") for s in sent]
        found = lookup(testinfra_host(self.via), expect(self.via, "proxy_access_log"), [s.marker for s in sent])
        return [e if isinstance(e, LogLineNotFoundError) else e.cache for e in found]

    def ask_ahead(self, probes: list[tuple[str, dict[str, str] | None]]) -> None:
        """Run these ``twice`` probes now, all at the same time (each on its own
        fresh URL, so they cannot meet in the cache), then read how the cache
        served all of them at once; the controls asking them later get the
        answers. A probe asked again runs again."""
        def pair(item: tuple[str, dict[str, str] | None]) -> tuple[Sent, Sent] | OSError:
            url = self.fresh(item[0])
            try:
                return self.send(url, item[1]), self.send(url, item[1])
            except OSError as exc:  # the control that asks it reports it
                return exc

        sent = at_once(pair, probes, limit=len(probes))
        asked = [s for p in sent if not isinstance(p, BaseException) for s in p]
        try:
            statuses = dict(zip((s.marker for s in asked), self.statuses_each(asked), strict=True)) if asked else {}
        except (AssertionError, OSError) as exc:  # the log unreadable: every probe's control reports it
            statuses = {s.marker: exc for s in asked}
        with _AHEAD_LOCK:
            for (path, cookies), p in zip(probes, sent, strict=True):
                answer = p if isinstance(p, BaseException) else _answer(p, statuses)
                _AHEAD.setdefault(_key(self, path, cookies), answer)

    def twice(self, path: str, cookies: dict[str, str] | None = None) -> Twice:
        """Cache status of two requests for one fresh URL, and the second one's
        HTTP status (answered from a probe asked ahead, once, when there is one)."""
        with _AHEAD_LOCK:
            ahead = _AHEAD.pop(_key(self, path, cookies), None)
        if isinstance(ahead, BaseException):
            raise ahead
        return ahead if ahead is not None else self._twice(path, cookies)

    def _twice(self, path: str, cookies: dict[str, str] | None = None) -> Twice:
        url = self.fresh(path)
        first, second = self.send(url, cookies), self.send(url, cookies)
        one, two = self.statuses(first, second)
        return one, two, second.response.status_code

    def assert_cached(self, what: str, path: str, cookies: dict[str, str] | None = None) -> None:
        first, second, status = self.twice(path, cookies)
        assert status == 200, f"{self.node.name}: {what} answered {status}; expected 200"
        assert (first, second) == ("MISS", "HIT"), (f"{self.node.name}: {what} cache status {first} then {second}; "
                                                    "expected MISS then HIT")

    def assert_never_hit(self, what: str, path: str, cookies: dict[str, str] | None = None) -> None:
        first, second, _ = self.twice(path, cookies)
        assert "HIT" not in (first, second), f"{self.node.name}: {what} was served from cache ({first}, {second})"
