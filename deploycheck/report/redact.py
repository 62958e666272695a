"""Keeps the inventory's secrets out of messages and reports.

One masking path: the ``Redactor`` masks text (every report, log record,
warning and error line) and structured values (``--list``,
``--expectations``); which values are secrets is decided here only."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import re
import warnings
from collections.abc import Callable, Iterable
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from deploycheck.inventory.loader import Inventory, Node, RenderError, cut

_RUNTIME: set[str] = set()  # secrets met during the run: session ids, session keys


def remember(secret: str | None) -> None:
    """Mask this value too from now on (a cookie or session key the run obtained)."""
    if secret and len(secret) >= 8:
        _RUNTIME.add(secret)


MASK = "********"
MIN_SECRET = 4  # shorter values are masked by name (--list) but not in text: "pw" would mask every "pw"
MIN_FRAGMENT = 8  # the kept part of a cut secret that is masked too

# A name is split into words on "_", "-" and "."; it names a secret when a word contains one of
# SECRET_PARTS (dbpassword, idr_secret_postgresql_password_ro), is one of SECRET_WORDS or ends in
# "pass" (rootpass), its first word is "vault" (vault_*, the Ansible convention for vaulted
# values), it ends in "key" or holds api/private/... "key", or it holds "cookie_value"; unless its
# last word says it describes a secret rather than holds one: a path to a file holding it
# (*_file, *_path, *_dir) or a setting about it (*_length, *_rounds, *_encryption, ...).
SECRET_PARTS = ("password", "passwd", "passphrase", "secret", "token", "credential", "apikey", "privkey")
SECRET_WORDS = frozenset({"pass", "pw", "pwd", "psk"})
KEY_KINDS = frozenset({"api", "access", "private", "secret", "session", "signing", "encryption", "master"})
NOT_SECRET_PASS = frozenset({"bypass", "compass"})
ABOUT_A_SECRET = frozenset({"file", "path", "dir", "length", "len", "rounds", "iterations", "min", "max", "age",
                            "days", "expiry", "expires", "policy", "enabled", "required", "algorithm", "encryption",
                            "scheme"})
TRUNCATION = re.compile(r"\.\.\.|…")  # what pytest (saferepr, long explanations) and clip() leave at a cut
URL_USERINFO = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:([^/\s@]+)@")


def is_secret_name(name: str) -> bool:
    """Whether a variable of this name holds a secret (see the rule above)."""
    words = [w for w in re.split(r"[_.-]+", name.lower()) if w]
    if not words or words[-1] in ABOUT_A_SECRET:
        return False
    if words[0] == "vault" and len(words) > 1:
        return True
    for i, word in enumerate(words):
        if any(part in word for part in SECRET_PARTS) or word in SECRET_WORDS:
            return True
        if word.endswith("pass") and word not in NOT_SECRET_PASS:
            return True
        if word == "key" and (i == len(words) - 1 or (i > 0 and words[i - 1] in KEY_KINDS)):
            return True
        if word == "cookie" and words[i + 1:i + 2] == ["value"]:
            return True
    return False


def url_passwords(text: str) -> list[str]:
    """The passwords in the userinfo of the URLs in ``text`` (https://user:pw@host/), as written and decoded."""
    from urllib.parse import unquote

    return [form for found in URL_USERINFO.findall(text) for form in {found, unquote(found)}]


def declared_secrets() -> frozenset[str]:
    """deploycheck's own secret variables and the deployment variables they
    are read from as they are: secrets whatever their names."""
    from deploycheck.inventory.variables import VARIABLES  # variables.py masks with this module

    return frozenset(name for var in VARIABLES.values() if var.secret
                     for name in (var.name, *(d.needs for d in var.deployment if d.template == f"{{{{ {d.needs} }}}}")))


class Redactor:
    def __init__(self, secrets: Iterable[str], names: Iterable[str] = ()) -> None:
        self.secrets = sorted({s for s in secrets if len(s) >= MIN_SECRET}, key=len, reverse=True)
        self.names = frozenset(names)  # further variables whose values are secrets: declared ones, vaulted files'
        self._forms: tuple[tuple[str, ...], list[str]] = ((), [])

    @classmethod
    def from_inventory(cls, inv: Inventory) -> Redactor:
        """Secrets as written and as rendered: a password may be a template over
        a vaulted variable, and the rendered value is what could leak."""
        vaulted = vault_file_values(inv)
        names = declared_secrets() | vaulted.keys()
        found = [s for value in vaulted.values() for s in _scalars(value)]
        for host in inv.hosts.values():
            for name, value in host.vars.items():
                found += list(_secret_values(value, name, names))
                # not renderable now: the controls that read it fail, and there is nothing to leak
                if is_secret(name, names):
                    with contextlib.suppress(RenderError):
                        found += list(_scalars(host.render(name, value)))
            found += _declared_values(host)
        return cls(found, names)

    def add(self, secret: str) -> None:
        if len(secret) >= MIN_SECRET and secret not in self.secrets:
            self.secrets = sorted([*self.secrets, secret], key=len, reverse=True)

    def add_urls(self, text: str | None) -> None:
        """Mask the passwords of the URLs in ``text`` (a URL given on the command line)."""
        for password in url_passwords(text or ""):
            self.add(password)

    def secret_name(self, name: str) -> bool:
        return is_secret(name, self.names)

    def __call__(self, text: str) -> str:
        forms = self._written()
        for form in forms:
            text = text.replace(form, MASK)
        if TRUNCATION.search(text):
            text = _mask_fragments(text, forms)
        return text

    def masked(self, data: Any, name: str = "") -> Any:
        """``data`` with the values of secret names and vaulted values replaced by MASK, then every known
        secret masked in the text left (a secret reused under another name)."""
        if isinstance(data, dict):
            return {k: self.masked(v, str(k)) for k, v in data.items()}
        if isinstance(data, list):
            return [self.masked(v, name) for v in data]
        if _vaulted(data) or (self.secret_name(name) and data is not None and not isinstance(data, bool)):
            return MASK
        return self(data) if isinstance(data, str) else data

    def _written(self) -> list[str]:
        """Every written form of every secret, longest first (cached until a secret is added)."""
        key = (*self.secrets, *sorted(_RUNTIME))
        if key != self._forms[0]:
            self._forms = (key, sorted({v for s in key for v in _written_forms(s)}, key=len, reverse=True))
        return self._forms[1]

    @property
    def active(self) -> bool:
        return bool(self.secrets or _RUNTIME)


def _mask_fragments(text: str, forms: list[str]) -> str:
    """pytest cuts long reprs and explanations ("abcdefgh...xyz"): the whole
    secret is not there to be masked, but its kept head or tail is. A run of
    MIN_FRAGMENT or more characters of a secret's start just before a
    truncation mark, or of its end just after one, is masked."""
    out, last = [], 0
    for mark in TRUNCATION.finditer(text):
        start, end = mark.span()
        head = max((k for f in forms for k in range(MIN_FRAGMENT, len(f))
                    if k <= start - last and text.endswith(f[:k], last, start)), default=0)
        out += [text[last:start - head], MASK if head else "", mark.group()]
        tail = max((k for f in forms for k in range(MIN_FRAGMENT, len(f)) if text.startswith(f[-k:], end)),
                   default=0)
        if tail:
            out.append(MASK)
        last = end + tail
    out.append(text[last:])
    return "".join(out)


def clip(text: str, limit: int, redact: Redactor | None = None) -> str:
    """``text`` masked, then cut to ``limit`` characters with a truncation
    mark: a secret cut first could no longer be found whole."""
    return cut(redact(text) if redact is not None else text, limit)


_BOUND: dict[int, tuple[Inventory, Redactor]] = {}  # the inventory kept, so its id is not reused


def redactor_for(inv: Inventory | None) -> Redactor:
    """The Redactor of an inventory: the run's once bound, else made from the inventory (once)."""
    if inv is None:
        return Redactor([])
    if id(inv) not in _BOUND:
        bind(inv, Redactor([]))  # while it is made: a message it makes along the way is dropped
        bind(inv, Redactor.from_inventory(inv))
    return _BOUND[id(inv)][1]


def bind(inv: Inventory, redact: Redactor) -> None:
    """``redact`` is the one that masks what is said of ``inv`` (a worker's holds the controller's secrets)."""
    _BOUND[id(inv)] = (inv, redact)


def host_value(host: Node, value: object, limit: int = 40) -> str:
    """A host's value quoted in a message: masked before it is cut."""
    return clip(repr(str(value)), limit, redactor_for(host._inventory))


def _written_forms(secret: str) -> set[str]:
    """A secret as it may be written out: as is, escaped for a Python repr, a
    JSON string or XML (junit.xml), so an escaped copy is masked too."""
    forms = {secret, repr(secret)[1:-1], json.dumps(secret)[1:-1], secret.encode("unicode_escape").decode(),
             xml_escape(secret, {'"': "&quot;", "'": "&apos;"})}
    return {f for f in forms if len(f) >= MIN_SECRET}


_CURRENT: list[Redactor] = []  # the run's Redactor, for what logging and warnings produce anywhere


def mask_output(redact: Redactor) -> None:
    """From now on ``redact`` masks every log record when it is made (whoever
    logs it, from any thread, wherever it goes: --log-cli-level, --log-file,
    captured logs) and every warning shown; ``mask_warning`` uses it too."""
    _CURRENT[:] = [redact]
    make = logging.getLogRecordFactory()
    if not getattr(make, "deploycheck_masks", False):
        logging.setLogRecordFactory(_masking_factory(make))
    if not getattr(warnings.showwarning, "deploycheck_masks", False):
        warnings.showwarning = _masking_showwarning(warnings.showwarning)


def _masking_factory(make: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def masked(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        if _CURRENT and _CURRENT[0].active:
            _mask_record(_CURRENT[0], record)
        return record

    masked.deploycheck_masks = True  # type: ignore[attr-defined]  # a mark on a function, read with getattr
    return masked


def _mask_record(redact: Redactor, record: logging.LogRecord) -> None:
    """The message, traceback and stack of a record (a traceback quotes the values of its lines)."""
    try:
        text = record.getMessage()
    except (TypeError, ValueError):  # arguments that do not fit the format: logging reports that itself
        return
    clean = redact(text)
    if clean != text:
        record.msg, record.args = clean, None
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def mask_warning(message: warnings.WarningMessage) -> None:
    """A warning's text masked in place, before pytest's warnings summary (or
    a worker's report of it) shows it: one from a thread too."""
    if not _CURRENT:
        return
    warning, redact = message.message, _CURRENT[0]
    text = str(warning)
    if redact(text) == text:
        return
    if isinstance(warning, Warning):
        warning.args = (redact(text),)
    else:
        message.message = redact(text)


def _masking_showwarning(show: Callable[..., None]) -> Callable[..., None]:
    """Warnings printed outside pytest's recording of them."""

    def masked(message: Warning | str, category: type[Warning], filename: str, lineno: int, file: Any = None,
               line: str | None = None) -> None:
        record = warnings.WarningMessage(message, category, filename, lineno, file, line)
        mask_warning(record)
        show(record.message, category, filename, lineno, file, line)

    masked.deploycheck_masks = True  # type: ignore[attr-defined]  # a mark on a function, read with getattr
    return masked


def is_secret(name: str, names: Iterable[str]) -> bool:
    """A secret by its name, or one of ``names`` (declared secrets, whole-file vaults' variables)."""
    return name in names or is_secret_name(name)


def _vaulted(data: Any) -> bool:
    return type(data).__name__ == "AnsibleVaultEncryptedUnicode"


def _scalars(data: Any) -> Iterable[str]:
    """Every text and number in ``data`` (all of it is secret); booleans and null say nothing."""
    if isinstance(data, dict):
        for value in data.values():
            yield from _scalars(value)
    elif isinstance(data, list | tuple):
        for value in data:
            yield from _scalars(value)
    elif _vaulted(data):
        yield from _secret_values(data)
    elif isinstance(data, str | int | float) and not isinstance(data, bool):
        yield str(data)


def _secret_values(data: Any, name: str = "", names: Iterable[str] = ()) -> Iterable[str]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _secret_values(value, str(key), names)
    elif isinstance(data, list):
        for value in data:
            yield from _secret_values(value, name, names)
    elif is_secret(name, names) and isinstance(data, str | int | float) and not isinstance(data, bool):
        yield str(data)
    elif _vaulted(data):  # vaulted: secret whatever its name
        from ansible.errors import AnsibleError  # only an inventory Ansible read holds vaulted values

        try:
            yield str(data)
        except AnsibleError:
            return
    elif isinstance(data, str):
        yield from url_passwords(data)


def _declared_values(host: Node) -> list[str]:
    """The values of deploycheck's secret variables for the host, wherever
    they come from (a template over the deployment's own mapping, say)."""
    from deploycheck.inventory.variables import VARIABLES, resolve

    found: list[str] = []
    for var in VARIABLES.values():
        if var.secret:
            with contextlib.suppress(RenderError, KeyError, TypeError, ValueError):
                found += list(_scalars(resolve(host, var.name)[0]))
    return found


VAULT_HEADER = b"$ANSIBLE_VAULT;"


def vault_file_values(inv: Inventory) -> dict[str, Any]:
    """The variables defined by vars files encrypted whole (ansible-vault
    encrypt): Ansible hands them over decrypted, as plain values, so their
    names say nothing; every value of such a file is a secret. The files are
    those Ansible loaded (group_vars/, host_vars/ beside the inventory and
    the playbooks), as its loader kept them."""
    found: dict[str, Any] = {}
    loaders = {id(h._loader): h._loader for h in inv.hosts.values() if h._loader is not None}
    for data_loader in loaders.values():
        for path, data in getattr(data_loader, "_FILE_CACHE", {}).items():
            if isinstance(data, dict) and _vault_encrypted(path):
                found.update({str(k): v for k, v in data.items()})
    return found


@functools.cache  # the inventory's renderings and its Redactor both ask, for the same files
def _vault_encrypted(path: str) -> bool:
    try:
        with open(path, "rb") as file:
            return file.read(len(VAULT_HEADER)) == VAULT_HEADER
    except OSError:
        return False
