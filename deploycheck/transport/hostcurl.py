"""HTTP requests made on a host to its own inner ports (9000, 8009, 8081),
the way an operator does through ``ssh -L``; the body comes back as text."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from deploycheck.inventory.loader import Host
from deploycheck.transport import http
from deploycheck.transport.remote import testinfra_host

SEP = "--deploycheck-body--"


@dataclass
class HostResponse:
    status: int
    headers: dict[str, str]
    text: str
    marker: str


def get(node: Host, url: str, method: str = "GET", timeout: float = 30, data: str | None = None) -> HostResponse:
    """``curl`` on the host; the marker goes into the User-Agent like every request of the suite."""
    marker = http.next_marker()
    http.count_request()
    cmd = ["curl", "-sS", "--max-time", str(int(timeout)), "-X", method, "-A", f"deploycheck {marker}",
           "-D", "-", "-o", "-"]
    if data is not None:
        cmd += ["--data", data]
    result = testinfra_host(node).run(" ".join(shlex.quote(c) for c in [*cmd, url]))
    if result.rc != 0:
        raise AssertionError(f"{node.name}: curl {url} failed: {result.stderr.strip()[:160]}")
    raw = result.stdout
    head, _, body = raw.replace("\r\n", "\n").partition("\n\n")
    while head.startswith("HTTP/") and body.startswith("HTTP/"):  # 100-continue and the like
        head, _, body = body.partition("\n\n")
    lines = head.splitlines()
    status = int(lines[0].split()[1]) if lines and len(lines[0].split()) > 1 else 0
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return HostResponse(status, headers, body, marker)
