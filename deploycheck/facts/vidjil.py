"""Vidjil's web2py login, as a browser does it: the form page first (its
session cookie and the hidden _formname/_formkey), then the POST with them.
web2py does not even look at credentials posted without them, so a bare
POST proves nothing either way."""

from __future__ import annotations

import re
from enum import Enum
from html import unescape

from deploycheck.report.redact import remember
from deploycheck.transport.http import Client, set_cookie_value

SESSION_COOKIE = "session_id_vidjil"
LOGIN = "/vidjil/default/user/login"
_HIDDEN = re.compile(r"<input[^>]*\bname=['\"](_formname|_formkey|_next)['\"][^>]*>", re.IGNORECASE)
_VALUE = re.compile(r"\bvalue=['\"]([^'\"]*)['\"]", re.IGNORECASE)


class Login(Enum):
    ACCEPTED = "accepted"
    REFUSED = "refused"
    NOT_PROCESSED = "not processed"  # no form, or the form came back: the credentials were never checked


def hidden_fields(page: str) -> dict[str, str]:
    fields = {}
    for tag in _HIDDEN.finditer(page):
        value = _VALUE.search(tag.group(0))
        fields[tag.group(1)] = unescape(value.group(1)) if value else ""
    return fields


def login(client: Client, email: str, password: str) -> Login:
    """Log in through the form. ACCEPTED: a redirect away from the login page
    with a new session cookie; REFUSED: the redirect back to it."""
    form = client.get(LOGIN).response
    cookie = set_cookie_value(form, SESSION_COOKIE)
    remember(cookie)
    fields = hidden_fields(form.text)
    if form.status_code != 200 or not cookie or fields.get("_formname") != "login" or not fields.get("_formkey"):
        return Login.NOT_PROCESSED
    data = {**fields, "email": email, "password": password}
    r = client.get(LOGIN, method="POST", data=data, cookies={SESSION_COOKIE: cookie}).response
    location = r.headers.get("Location", "")
    if r.status_code in (302, 303):
        renewed = set_cookie_value(r, SESSION_COOKIE)
        remember(renewed)
        if "user/login" in location:
            return Login.REFUSED
        return Login.ACCEPTED if renewed and renewed != cookie else Login.NOT_PROCESSED
    return Login.NOT_PROCESSED
