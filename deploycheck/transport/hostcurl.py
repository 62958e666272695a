"""HTTP requests made on a host to its own inner ports (9000, 8009, 8081),
the way an operator does through ``ssh -L``; the body comes back as text.
The one way controls send HTTP from a host."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from deploycheck.inventory.loader import Node, cut
from deploycheck.inventory.urlpath import join
from deploycheck.transport import http
from deploycheck.transport.remote import run_many, testinfra_host

# --globoff: braces and brackets of a URL are its own, never a list of URLs; each URL follows --url, never an option
CURL = ("curl", "-sS", "--globoff")


def loopback_url(port: int, path: str) -> str:
    """``path`` on the host's own ``port``: a path cannot name another host (see urlpath)."""
    return join(f"http://127.0.0.1:{int(port)}", path)


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


def _command(url: str, method: str, timeout: float, data: str | None, follow: bool) -> tuple[str, str]:
    marker = http.next_marker()
    http.count_request()
    cmd = [*CURL, "--max-time", str(int(timeout)), "-X", method, "-A", f"deploycheck {marker}",
           "-D", "-", "-o", "-"]
    if data is not None:
        cmd += ["--data", data]
    if follow:
        cmd += ["--location"]
    return " ".join(shlex.quote(c) for c in [*cmd, "--url", url]), marker


def observation_command(url: str, method: str = "GET", timeout: float = 10, follow: bool = False) -> str:
    """The command of a read-only request whose answer is a host fact (a
    health check, a version footer): the same string in every process of
    a run, so it is asked once per run and can be asked ahead. Its marker
    names the run, not the request: no control looks for it in a log.
    With ``follow``, redirects are followed and the last answer is parsed."""
    if method not in ("GET", "HEAD", "OPTIONS"):
        raise ValueError(f"{method} is not a read-only method")
    cmd = [*CURL, "--max-time", str(int(timeout)), "-X", method, "-A", f"deploycheck {_fact_marker()}",
           "-D", "-", "-o", "-", *(["--location"] if follow else []), "--url", url]
    return " ".join(shlex.quote(c) for c in cmd)


def parse(node: Node, url: str, rc: int, raw: str, stderr: str) -> HostResponse:
    """An observation's answer (see ``observation_command``)."""
    return _parse(node, url, rc, raw, stderr, _fact_marker())


def _fact_marker() -> str:
    return f"dc-{http.RUN_ID}-fact"


def get(node: Node, url: str, method: str = "GET", timeout: float = 30, data: str | None = None,
        follow: bool = False) -> HostResponse:
    """``curl`` on the host; the marker goes into the User-Agent like every request of the suite.
    With ``follow``, redirects are followed and the last answer is returned."""
    command, marker = _command(url, method, timeout, data, follow)
    result = testinfra_host(node).run(command)
    return _parse(node, url, result.rc, result.stdout, result.stderr, marker)


def get_many(node: Node, requests: list[tuple[str, str, str | None]], timeout: float = 30
             ) -> list[HostResponse | NoAnswerError]:
    """Several independent ``(url, method, data)`` requests in one round trip
    (the host runs them one after the other); a request without an HTTP
    answer is its NoAnswerError, in its place."""
    built = [_command(url, method, timeout, data, False) for url, method, data in requests]
    answers = run_many(node, [command for command, _ in built], ahead=False)
    out: list[HostResponse | NoAnswerError] = []
    for (url, _, _), (_, marker), (rc, stdout, stderr) in zip(requests, built, answers, strict=True):
        try:
            out.append(_parse(node, url, rc, stdout, stderr, marker))
        except NoAnswerError as exc:
            out.append(exc)
    return out


def _parse(node: Node, url: str, rc: int, raw: str, stderr: str, marker: str) -> HostResponse:
    if rc != 0:
        raise NoAnswerError(f"{node.name}: curl {url} failed: {cut(stderr.strip(), 160)}")
    head, _, body = raw.replace("\r\n", "\n").partition("\n\n")
    while head.startswith("HTTP/") and body.startswith("HTTP/"):  # 100-continue, followed redirects
        head, _, body = body.partition("\n\n")
    lines = head.splitlines()
    status = int(lines[0].split()[1]) if lines and len(lines[0].split()) > 1 else 0
    fields = [(k.strip().lower(), v.strip()) for k, _, v in (line.partition(":") for line in lines[1:])]
    return HostResponse(status, dict(fields), body, marker, [v for k, v in fields if k == "set-cookie"])


def loopback(node: Node, port: int, path: str, method: str = "GET", timeout: float = 30,
             data: str | None = None) -> HostResponse:
    """``get`` of ``path`` on the host's own port ``port`` (127.0.0.1)."""
    return get(node, loopback_url(port, path), method, timeout, data)
