"""Keeps the inventory's secrets out of messages and reports."""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Iterable
from typing import Any
from xml.sax.saxutils import escape as xml_escape

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
        for secret in sorted({v for s in {*self.secrets, *_RUNTIME} for v in _written_forms(s)}, key=len,
                             reverse=True):
            text = text.replace(secret, MASK)
        return text

    @property
    def active(self) -> bool:
        return bool(self.secrets or _RUNTIME)


def _written_forms(secret: str) -> set[str]:
    """A secret as it may be written out: as is, escaped for a Python repr, a
    JSON string or XML (junit.xml), so an escaped copy is masked too."""
    forms = {secret, repr(secret)[1:-1], json.dumps(secret)[1:-1], secret.encode("unicode_escape").decode(),
             xml_escape(secret, {'"': "&quot;", "'": "&apos;"})}
    return {f for f in forms if len(f) >= 4}


def mask_log_records(redact: Redactor) -> None:
    """Every log record is masked when it is made, whoever logs it and
    wherever it goes (--log-cli-level, --log-file, captured logs)."""
    make = logging.getLogRecordFactory()
    if getattr(make, "deploycheck_masks", False):
        return

    def masked(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        if redact.active:
            try:
                text = record.getMessage()
            except (TypeError, ValueError):  # arguments that do not fit the format: logging reports that itself
                return record
            clean = redact(text)
            if clean != text:
                record.msg, record.args = clean, None
        return record

    masked.deploycheck_masks = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(masked)


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
        from ansible.errors import AnsibleError  # only an inventory Ansible read holds vaulted values

        try:
            yield str(data)
        except AnsibleError:
            return
