"""Keeps the inventory's secrets out of messages and reports."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from typing import Any

from ansible.errors import AnsibleError

from deploycheck.inventory.loader import Inventory, RenderError

_RUNTIME: set[str] = set()  # secrets met during the run: session ids, session keys


def remember(secret: str | None) -> None:
    """Mask this value too from now on (a cookie or session key the run obtained)."""
    if secret and len(secret) >= 8:
        _RUNTIME.add(secret)


SECRET_NAME = re.compile(r"(pass(word|wd)?|secret|token|session_key|cookie_value|_key)$", re.IGNORECASE)
MASK = "********"


class Redactor:
    def __init__(self, secrets: Iterable[str]) -> None:
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    @classmethod
    def from_inventory(cls, inv: Inventory) -> Redactor:
        """Secrets as written and as rendered: a password may be a template over
        a vaulted variable, and the rendered value is what could leak."""
        found: list[str] = []
        for host in inv.hosts.values():
            for name, value in host.vars.items():
                found += list(_secret_values(value, name))
                # not renderable now: the controls that read it fail, and there is nothing to leak
                if SECRET_NAME.search(name) and not name.endswith("_file"):
                    with contextlib.suppress(RenderError):
                        found += list(_secret_values(host.render(name, value), name))
        return cls(found)

    def add(self, secret: str) -> None:
        if len(secret) >= 4 and secret not in self.secrets:
            self.secrets = sorted([*self.secrets, secret], key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in sorted({*self.secrets, *_RUNTIME}, key=len, reverse=True):
            text = text.replace(secret, MASK)
        return text

    @property
    def active(self) -> bool:
        return bool(self.secrets or _RUNTIME)


def _secret_values(data: Any, name: str = "") -> Iterable[str]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _secret_values(value, str(key))
    elif isinstance(data, list):
        for value in data:
            yield from _secret_values(value, name)
    elif SECRET_NAME.search(name) and not name.endswith("_file") and isinstance(data, str | int | float):
        yield str(data)
    elif type(data).__name__ == "AnsibleVaultEncryptedUnicode":  # vaulted: secret whatever its name
        try:
            yield str(data)
        except AnsibleError:
            return
