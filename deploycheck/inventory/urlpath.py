"""URL paths and base URLs from the inventory. A path is appended to a base
URL whose host deploycheck chose: ``@169.254.169.254/latest`` after
``http://127.0.0.1:9000`` would make curl and requests talk to another host,
``//host/x`` or a backslash do the same in some parsers, and whitespace
splits a request line. Such values are refused when the inventory loads,
and every join checks that the host stayed the base's."""

from __future__ import annotations

from urllib.parse import urlsplit


def _bad_character(text: str) -> str | None:
    for c in text:
        if c.isspace() or ord(c) < 32 or ord(c) == 127:
            return "whitespace or a control character"
        if c == "\\":
            return "a backslash"
    return None


def path_problem(path: object) -> str | None:
    """Why ``path`` is no URL path that can follow a base URL, or None."""
    if not isinstance(path, str):
        return "not a string"
    if "@" in path.split("/", 1)[0]:
        return "'@' before the first '/' (it would name another host)"
    if not path.startswith("/"):
        return "no leading '/'"
    if path.startswith("//"):
        return "a leading '//' (it would name another host)"
    if "://" in path:
        return "a scheme ('://')"
    return _bad_character(path)


def url_problem(url: object) -> str | None:
    """Why ``url`` is no http(s) URL with a host and a clean path, or None."""
    if not isinstance(url, str):
        return "not a string"
    why = _bad_character(url)
    if why:
        return why
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is no number
    except ValueError:
        return "no valid port"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "no http(s) scheme and host"
    return path_problem(parts.path) if parts.path else None


def path_or_url_problem(value: object) -> str | None:
    """``ready_urls`` entries: an http(s) URL, or a path below public_url."""
    return url_problem(value) if isinstance(value, str) and "://" in value and not value.startswith("/") \
        else path_problem(value)


def same_host(base: str, url: str) -> None:
    """The final guard of every request: ``url`` goes to ``base``'s scheme, host and port."""
    want, got = urlsplit(base), urlsplit(url)
    if (got.scheme, got.netloc) != (want.scheme, want.netloc):
        raise ValueError(f"request for {url[:120]!r} would leave {want.scheme}://{want.netloc}")


def join(base: str, path: str) -> str:
    """``path`` (checked, see ``path_problem``) below ``base``, on ``base``'s host."""
    why = path_problem(path)
    if why is not None:
        raise ValueError(f"URL path {str(path)[:80]!r} refused: {why}")
    url = base.rstrip("/") + path
    same_host(base, url)
    return url
