"""The web2py admin checks: the stored hash tried against weak passwords
as web2py's CRYPT makes it, and web2py's refusal pages recognised."""

from __future__ import annotations

import hashlib

from deploycheck.facts.web2pyadmin import DISABLED, LOGIN_FORM, StoredPassword


def _crypt(password: str, salt: str = "0123456789abcdef") -> str:
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt.encode(), 1000, 20).hex()
    return f"pbkdf2(1000,20,sha512)${salt}${digest}"


def test_a_shipped_password_is_found_without_logging_in() -> None:
    assert StoredPassword(True, _crypt("foobartest")).matches(["", "1234", "foobartest"])
    assert not StoredPassword(True, _crypt("a-long-random-one")).matches(["", "1234", "foobartest"])
    assert not StoredPassword(True, None).matches([""])  # no password: admin disabled, nothing to match
    assert not StoredPassword(True, "md5$x$y").matches(["x"])  # an unknown scheme is not guessed


def test_refusal_pages_and_login_form() -> None:
    assert DISABLED.search("Admin is disabled because insecure channel").group(0).endswith("insecure channel")
    assert DISABLED.search("admin disabled because unable to access password file")
    assert not DISABLED.search("<h2>web2py administrative interface</h2>")
    assert LOGIN_FORM.search("<input type='password' name='password' id='password'/>")
    assert LOGIN_FORM.search('<INPUT name="password" TYPE="password">')
