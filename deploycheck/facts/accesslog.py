"""Reading the proxy's cache status for one request from its access log.

Matches only the line carrying the request's own marker (in the
User-Agent), so earlier requests for the same path can never make a check
pass. The default format is IDR's ``main_timed_cache_upstream``.
"""

from __future__ import annotations

import re
import shlex
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from deploycheck.transport.together import raise_first

if TYPE_CHECKING:
    from testinfra.host import Host as TestinfraHost

LINE = re.compile(
    r'"(?P<request>[^"]*)" (?P<status>\d{3}) \S+ "[^"]*" "(?P<agent>[^"]*)" "[^"]*" '
    r"(?P<request_time>\S+) (?P<cache>\S+)(?: (?P<upstream>.*))?$"
)


@dataclass
class LogEntry:
    request: str
    status: int
    cache: str
    upstream: str


class LogLineNotFoundError(AssertionError):
    pass


def parse_line(line: str) -> LogEntry | None:
    match = LINE.search(line)
    if match is None:
        return None
    return LogEntry(match["request"], int(match["status"]), match["cache"], match["upstream"] or "-")


def entry_for(host: TestinfraHost, log_path: str, marker: str, deadline_s: float = 3.0) -> LogEntry:
    """The access-log entry of the request with ``marker``; polls briefly,
    since nginx writes the line after the response is sent."""
    return entries_for(host, log_path, [marker], deadline_s)[0]


def entries_for(host: TestinfraHost, log_path: str, markers: list[str], deadline_s: float = 3.0) -> list[LogEntry]:
    """The entries of several requests, in the order of ``markers``, read
    with one command (one round trip) while they are all there."""
    return raise_first(lookup(host, log_path, markers, deadline_s))


def lookup(host: TestinfraHost, log_path: str, markers: list[str], deadline_s: float = 3.0
           ) -> list[LogEntry | LogLineNotFoundError]:
    """Like ``entries_for``, but a request whose line is missing or unreadable
    gets its own error in its place, and the others their entries: one
    read serves requests that different controls judge."""
    end = time.monotonic() + deadline_s
    patterns = " ".join(f"-e {shlex.quote(m + chr(34))}" for m in markers)  # the marker ends the quoted User-Agent
    command = f"grep -F {patterns} -- {shlex.quote(log_path)} | tail -n {4 * len(markers)}"
    found: dict[str, str] = {}
    for _ in range(100):
        for line in host.run(command).stdout.splitlines():
            for m in markers:
                if m + '"' in line:
                    found[m] = line  # the last line carrying the marker wins
        if all(m in found for m in markers) or time.monotonic() > end:
            break
        time.sleep(0.05)
    entries: list[LogEntry | LogLineNotFoundError] = []
    for m in markers:
        if m not in found:
            entries.append(LogLineNotFoundError(f"no line for request {m} in {log_path} within {deadline_s:.0f} s"))
        elif (entry := parse_line(found[m])) is None:
            entries.append(LogLineNotFoundError(f"access log line for {m} has an unknown format: {found[m][:200]}"))
        else:
            entries.append(entry)
    return entries
