"""Requests through the public proxy and how its cache served each one
(MISS, HIT, BYPASS, ...), read for exactly that request: from the debug
header when the inventory turns it on, else from the access-log line
carrying the request's own marker."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import requests

from deploycheck.facts.accesslog import LogEntry, LogLineNotFoundError, entry_for, lookup
from deploycheck.inventory.loader import Node
from deploycheck.inventory.variables import expect
from deploycheck.transport.http import Client, Sent
from deploycheck.transport.remote import testinfra_host
from deploycheck.transport.together import at_once, raise_first

Twice = tuple[str, str, int]  # cache status of a first and a second request, the second's HTTP status
_CLIENTS: dict[str, Client] = {}
_CLIENTS_LOCK = threading.Lock()


class Request(NamedTuple):
    """One GET through the public site: ``cookies`` None sends none; ``fresh``
    sends it on a URL new to the cache, else exactly as given."""

    path: str
    cookies: dict[str, str] | None = None
    fresh: bool = True


def site_client(proxy_node: Node) -> Client:
    """The process's client of the public site, as an anonymous visitor reaches it."""
    with _CLIENTS_LOCK:
        if proxy_node.name not in _CLIENTS:
            _CLIENTS[proxy_node.name] = Client(expect(proxy_node, "public_url"),
                                               float(expect(proxy_node, "http_timeout")))
        return _CLIENTS[proxy_node.name]


def via(node: Node) -> Node:
    """The inventory's public proxy (its first proxy host), through which ``node``'s requests go."""
    return node.peer("proxy") or node


def site_proxy(node: Node) -> Proxy:
    """``node``'s requests through the public proxy."""
    return Proxy(node, via(node), site_client(via(node)))


class SiteGets:
    """Questions asked as GETs through the public site: every request of one
    exchange sent at the same time; an ask is a list of ``Request``, its
    raw answer the list of their responses (or the error of each)."""

    def place(self, node: Node) -> str:
        return f"site:{via(node).name}"

    def ask_many(self, asked: list[tuple[Node, Any]], early: bool) -> list[Any]:
        proxy = site_proxy(asked[0][0])
        flat = [r for _, requests_ in asked for r in requests_]
        answers = iter(proxy.fetch_all(flat))
        return [[next(answers) for _ in requests_] for _, requests_ in asked]


class CacheProbes:
    """Questions asked as MISS-then-HIT probes through the public site: every
    probe of one exchange at the same time, the cache statuses read once;
    an ask is a ``Request``, its raw answer a ``Twice`` (or its error)."""

    def place(self, node: Node) -> str:
        return f"probes:{via(node).name}"

    def ask_many(self, asked: list[tuple[Node, Any]], early: bool) -> list[Any]:
        return site_proxy(asked[0][0]).probe_all([(r.path, r.cookies) for _, r in asked])


SITE_GETS = SiteGets()
CACHE_PROBES = CacheProbes()


def responses(node: Node, raw: list[requests.Response | Exception]) -> list[requests.Response]:
    """A ``SiteGets`` answer as the controls read it: the first failed request raises."""
    return raise_first(raw)


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

    node: Node
    via: Node
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
        """The answer to one request for ``path`` on a URL new to the cache."""
        return self.send(self.fresh(path), cookies, headers, method).response

    def fetch_all(self, asked: list[Request]) -> list[requests.Response | Exception]:
        """GET these now, all at the same time (a ``fresh`` one on its own URL
        new to the cache): over a slow link they wait about one round trip in
        all, not one each. A request that failed gives its error in its place,
        raised where a control reads it."""
        def one(item: Request) -> requests.Response | Exception:
            try:
                return self.send(self.fresh(item.path) if item.fresh else item.path, item.cookies or {}).response
            except Exception as exc:  # the control that reads it raises it, as it would have
                return exc

        return at_once(one, asked, limit=len(asked))

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
        return raise_first(self.statuses_each(list(sent)))

    def statuses_each(self, sent: list[Sent]) -> list[str | LogLineNotFoundError]:
        """Like ``statuses``, but a request whose status cannot be read gets
        its error in its place (the log read once for requests that
        different controls judge)."""
        header = expect(self.via, "cache_status_header")
        if header:
            return [s.response.headers.get(header, "-") for s in sent]
        found = lookup(testinfra_host(self.via), expect(self.via, "proxy_access_log"), [s.marker for s in sent])
        return [e if isinstance(e, LogLineNotFoundError) else e.cache for e in found]

    def probe_all(self, probes: list[tuple[str, dict[str, str] | None]]) -> list[Twice | BaseException]:
        """Run these ``twice`` probes now, all at the same time (each on its own
        fresh URL, so they cannot meet in the cache), then read how the cache
        served all of them at once."""
        def pair(item: tuple[str, dict[str, str] | None]) -> tuple[Sent, Sent] | OSError:
            url = self.fresh(item[0])
            try:
                return self.send(url, item[1]), self.send(url, item[1])
            except OSError as exc:  # the control that reads it reports it
                return exc

        sent = at_once(pair, probes, limit=len(probes))
        asked = [s for p in sent if not isinstance(p, BaseException) for s in p]
        statuses: dict[str, str | BaseException]
        try:
            statuses = dict(zip((s.marker for s in asked), self.statuses_each(asked), strict=True)) if asked else {}
        except (AssertionError, OSError) as exc:  # the log unreadable: every probe's control reports it
            statuses = {s.marker: exc for s in asked}
        return [p if isinstance(p, BaseException) else _answer(p, statuses) for p in sent]

    def twice(self, path: str, cookies: dict[str, str] | None = None) -> Twice:
        """Cache status of two requests for one fresh URL, and the second one's HTTP status."""
        url = self.fresh(path)
        first, second = self.send(url, cookies), self.send(url, cookies)
        one, two = self.statuses(first, second)
        return one, two, second.response.status_code

    def assert_cached(self, what: str, path: str, cookies: dict[str, str] | None = None) -> None:
        assert_cached(self.node, what, self.twice(path, cookies))

    def assert_never_hit(self, what: str, path: str, cookies: dict[str, str] | None = None) -> None:
        assert_never_hit(self.node, what, self.twice(path, cookies))


def assert_cached(node: Node, what: str, answer: Twice) -> None:
    """A probe's answer: 200, MISS then HIT."""
    first, second, status = answer
    assert status == 200, f"{node.name}: {what} answered {status}; expected 200"
    assert (first, second) == ("MISS", "HIT"), (f"{node.name}: {what} cache status {first} then {second}; "
                                                "expected MISS then HIT")


def assert_never_hit(node: Node, what: str, answer: Twice) -> None:
    """A probe's answer: no HIT."""
    first, second, _ = answer
    assert "HIT" not in (first, second), f"{node.name}: {what} was served from cache ({first}, {second})"
