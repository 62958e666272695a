"""Never log in to OMERO.web through the proxy (seed 000 WARNING)."""

from __future__ import annotations

import pytest

from deploycheck.control import control
from deploycheck.facts.tls import https_client
from deploycheck.inventory.variables import expect
from deploycheck.transport import hostcurl

REF = "seed 000: Never log in to OMERO.web on any idr-proxy port"
FORM = {"username": "public", "password": "public"}


def _check(node, label: str, status: int, location: str, set_cookie: bool) -> str | None:  # noqa: ANN001
    if not 300 <= status < 400:
        return f"{label}: {status} (expected a redirect)"
    if "login" in location:
        return f"{label}: redirects to {location} (still the login page)"
    if set_cookie:
        return f"{label}: sets a cookie"
    return None


@control("IDR-LOGIN-01", "The login page redirects away on every public proxy port", "critical", REF)
@pytest.mark.hosts("proxy")
def test_login_blocked_public(node, proxy_client, inventory) -> None:  # noqa: ANN001
    wrong = []
    https = https_client(node)
    for label, client in (("http", proxy_client), ("https", https)):
        for method in ("GET", "POST"):
            r = client.get("/webclient/login/", method=method, data=FORM if method == "POST" else None).response
            problem = _check(node, f"{label} {method}", r.status_code, r.headers.get("Location", ""),
                             "Set-Cookie" in r.headers)
            if problem:
                wrong.append(problem)
    assert not wrong, f"{node.name}: " + "; ".join(wrong)


@control("IDR-LOGIN-02", "The login page redirects away on the cache-buster and long-query ports", "critical",
         REF)
@pytest.mark.hosts("proxy")
def test_login_blocked_inner(node) -> None:  # noqa: ANN001
    ports = [p for p in (expect(node, "cachebuster_port"), expect(node, "longquery_port")) if p]
    if not ports:
        pytest.skip(f"{node.name}: inventory sets neither cachebuster_port nor longquery_port")
    wrong = []
    for port in ports:
        for method in ("GET", "POST"):
            r = hostcurl.get(node, f"http://127.0.0.1:{port}/webclient/login/", method=method,
                             data="username=public&password=public" if method == "POST" else None)
            problem = _check(node, f"port {port} {method}", r.status, r.headers.get("location", ""),
                             "set-cookie" in r.headers)
            if problem:
                wrong.append(problem)
    assert not wrong, f"{node.name}: " + "; ".join(wrong)
