"""Vidjil's web2py login, as a browser posts it."""

from __future__ import annotations

from deploycheck.transport.http import Client

SESSION_COOKIE = "session_id_vidjil"


def login(client: Client, email: str, password: str) -> bool:
    """True when web2py accepts the credentials (a redirect with a session cookie)."""
    r = client.get("/vidjil/default/user/login", method="POST", data={"email": email, "password": password}).response
    return r.status_code in (302, 303) and SESSION_COOKIE in r.headers.get("Set-Cookie", "")
