"""Seed 000, WARNING: never log in to OMERO.web on any idr-proxy port. The
login page redirects away, without a session cookie, on the public ports
(HTTP and HTTPS) and on the cache-buster and long-query ports."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control
from deploycheck.facts.tls import https_client
from deploycheck.inventory.variables import expect
from deploycheck.transport import hostcurl
from deploycheck.transport.together import at_once

if TYPE_CHECKING:
    from deploycheck.inventory.loader import Node
    from deploycheck.transport.http import Client

pytestmark = pytest.mark.hosts("proxy")
READS = ("cachebuster_port", "longquery_port")

REF = "seed 000: Never log in to OMERO.web on any idr-proxy port"
FORM = {"username": "public", "password": "public"}


def _problem(label: str, status: int, location: str, set_cookie: bool) -> str | None:
    if not 300 <= status < 400:
        return f"{label}: {status} (expected a redirect)"
    if "login" in location:
        return f"{label}: redirects to {location} (still the login page)"
    if set_cookie:
        return f"{label}: sets a cookie"
    return None


@control("IDR-LOGIN-01", "The login page redirects away on every public proxy port", "critical", REF)
def test_login_blocked_public(node: Node, proxy_client: Client) -> None:
    """A session opened through the proxy could be cached and served to
    others; the proxy must not let anyone log in."""
    wrong = []
    tries = [(label, client, method) for label, client in (("http", proxy_client), ("https", https_client(node)))
             for method in ("GET", "POST")]
    answers = at_once(lambda t: t[1].get("/webclient/login/", method=t[2], data=FORM if t[2] == "POST" else None),
                      tries)
    for (label, _, method), sent in zip(tries, answers, strict=True):
        r = sent.response
        problem = _problem(f"{label} {method}", r.status_code, r.headers.get("Location", ""),
                           "Set-Cookie" in r.headers)
        if problem:
            wrong.append(problem)
    assert not wrong, f"{node.name}: " + "; ".join(wrong)


@control("IDR-LOGIN-02", "The login page redirects away on the cache-buster and long-query ports", "critical",
         REF, shell=True)
def test_login_blocked_inner(node: Node) -> None:
    """The inner ports store what they fetch in the shared cache too; a
    login there is as dangerous as on port 80."""
    ports = [p for p in (expect(node, "cachebuster_port"), expect(node, "longquery_port")) if p]
    if not ports:
        pytest.skip(f"{node.name}: inventory sets neither cachebuster_port nor longquery_port")
    wrong = []
    tries = [(port, method) for port in ports for method in ("GET", "POST")]
    answers = hostcurl.get_many(node, [(f"http://127.0.0.1:{port}/webclient/login/", method,
                                        "username=public&password=public" if method == "POST" else None)
                                       for port, method in tries])  # one round trip for all of them
    silent = set()
    for (port, method), r in zip(tries, answers, strict=True):
        if isinstance(r, hostcurl.NoAnswerError):  # every port is judged; one that does not answer is a problem
            if port not in silent:
                wrong.append(f"port {port}: does not answer (the docs name it)")
            silent.add(port)
            continue
        problem = _problem(f"port {port} {method}", r.status, r.headers.get("location", ""),
                           "set-cookie" in r.headers)
        if problem:
            wrong.append(problem)
    assert not wrong, f"{node.name}: " + "; ".join(wrong)
