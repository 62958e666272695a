"""HTTP requests made on a host to its own inner ports (9000, 8009, 8081),
the way an operator does through ``ssh -L``; the body comes back as text.
The one way controls send HTTP from a host."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from deploycheck.inventory.loader import Host
from deploycheck.transport import http
from deploycheck.transport.remote import testinfra_host


class NoAnswerError(AssertionError):
    """curl got no HTTP answer (nothing listens, a timeout, an empty reply)."""


@dataclass
class HostResponse:
    status: int
    headers: dict[str, str]  # lower-case names; a repeated header keeps its last value
    text: str
    marker: str
    set_cookies: list[str] = field(default_factory=list)  # every Set-Cookie header, in order

    def cookie(self, name: str) -> str | None:
        """The value the response's Set-Cookie headers give cookie ``name``, if any."""
        for line in self.set_cookies:
            key, _, value = line.split(";", 1)[0].partition("=")
            if key.strip() == name and value.strip().strip('"'):
                return value.strip().strip('"')
        return None


def get(node: Host, url: str, method: str = "GET", timeout: float = 30, data: str | None = None,
        follow: bool = False) -> HostResponse:
    """``curl`` on the host; the marker goes into the User-Agent like every request of the suite.
    With ``follow``, redirects are followed and the last answer is returned."""
    marker = http.next_marker()
    http.count_request()
    cmd = ["curl", "-sS", "--max-time", str(int(timeout)), "-X", method, "-A", f"deploycheck {marker}",
           "-D", "-", "-o", "-"]
    if data is not None:
        cmd += ["--data", data]
    if follow:
        cmd += ["--location"]
    result = testinfra_host(node).run(" ".join(shlex.quote(c) for c in [*cmd, url]))
    if result.rc != 0:
        raise NoAnswerError(f"{node.name}: curl {url} failed: {result.stderr.strip()[:160]}")
    raw = result.stdout
    head, _, body = raw.replace("\r\n", "\n").partition("\n\n")
    while head.startswith("HTTP/") and body.startswith("HTTP/"):  # 100-continue, followed redirects
        head, _, body = body.partition("\n\n")
    lines = head.splitlines()
    status = int(lines[0].split()[1]) if lines and len(lines[0].split()) > 1 else 0
    fields = [(k.strip().lower(), v.strip()) for k, _, v in (line.partition(":") for line in lines[1:])]
    return HostResponse(status, dict(fields), body, marker, [v for k, v in fields if k == "set-cookie"])


def loopback(node: Host, port: int, path: str, method: str = "GET", timeout: float = 30,
             data: str | None = None) -> HostResponse:
    """``get`` of ``path`` on the host's own port ``port`` (127.0.0.1)."""
    return get(node, f"http://127.0.0.1:{port}{path}", method, timeout, data)
