"""web2py's administration site (the ``admin`` application) as a visitor
and as the host see it. web2py 2.20 refuses it over plain HTTP ("Admin is
disabled because insecure channel") and without a password file or with an
empty password ("admin disabled because ..."), all as 200 pages; otherwise
``default/index`` is its login form. The password lives as a salted pbkdf2
hash in ``parameters_<port>.py`` beside web2py (gluon/main.py
save_password): it is read on the host and tried locally against the
passwords a deployment must not keep, so no login is attempted (five
failures lock the admin out for an hour) and the hash never leaves this
module."""

from __future__ import annotations

import hashlib
import hmac
import re
import shlex
from dataclasses import dataclass, field

from deploycheck.inventory.loader import Node
from deploycheck.inventory.variables import expect
from deploycheck.transport import compose
from deploycheck.transport.http import Client

INDEX = "/admin/default/index"
LOGIN_FORM = re.compile(r"<input[^>]*type=['\"]?password", re.IGNORECASE)
DISABLED = re.compile(r"(admin|Admin) (is )?disabled because [a-z ]+")


@dataclass(frozen=True)
class AdminPage:
    status: int
    location: str
    login_form: bool
    disabled: str | None  # web2py's own reason, when it refuses


def page(client: Client) -> AdminPage:
    r = client.get(INDEX).response
    text = r.text[:20_000]
    found = DISABLED.search(text)
    return AdminPage(r.status_code, r.headers.get("Location", ""), bool(LOGIN_FORM.search(text)),
                     found.group(0) if found else None)


MAX_ROUNDS = 1_000_000  # web2py's CRYPT uses 1000: a hash with far more would cost hours of CPU to try
MAX_KEY_BYTES = 1024  # web2py's is 20 bytes


class CannotCheckError(Exception):
    """The stored hash cannot be tried here (its cost or digest); the message is one line."""


@dataclass(frozen=True)
class StoredPassword:
    exists: bool  # the parameters file is there
    hash: str | None = field(default=None, repr=False)  # None: no password (admin disabled); never printed

    def matches(self, candidates: list[str]) -> bool:
        """Whether the stored hash is one of ``candidates`` (pbkdf2 as web2py's CRYPT);
        a hash too costly to try, or of a digest unknown here, raises CannotCheckError."""
        if not self.hash:
            return False
        parts = self.hash.split("$")
        match = re.fullmatch(r"pbkdf2\((\d+),(\d+),(sha\d+)\)", parts[0]) if len(parts) == 3 else None
        if match is None:
            return False
        rounds, length, alg = int(match[1]), int(match[2]), match[3]
        if rounds > MAX_ROUNDS:
            raise CannotCheckError(f"cannot check: round count {rounds} above bound {MAX_ROUNDS}")
        if not 0 < length <= MAX_KEY_BYTES:
            raise CannotCheckError(f"cannot check: key length {length} outside 1..{MAX_KEY_BYTES}")
        if alg not in hashlib.algorithms_available:
            raise CannotCheckError(f"cannot check: unknown digest {alg}")
        try:
            return any(hmac.compare_digest(hashlib.pbkdf2_hmac(alg, c.encode(), parts[1].encode(), rounds,
                                                               length).hex(), parts[2]) for c in candidates)
        except ValueError as exc:  # a digest this Python's OpenSSL does not offer
            raise CannotCheckError(f"cannot check: digest {alg}: {exc}") from None


def stored_password(node: Node) -> StoredPassword:
    """The admin password web2py checks for requests on ``web2py_admin_port``."""
    path = f"{expect(node, 'web2py_dir').rstrip('/')}/parameters_{int(expect(node, 'web2py_admin_port'))}.py"
    code, out = compose.run(node, expect(node, "web2py_service"), f"cat -- {shlex.quote(path)}")
    if code != 0:
        return StoredPassword(False)
    match = re.search(r'^password\s*=\s*["\']([^"\']*)["\']', out, re.MULTILINE)
    return StoredPassword(True, match.group(1) if match and match.group(1) else None)
