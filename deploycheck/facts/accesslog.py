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


def entry_for(host, log_path: str, marker: str, deadline_s: float = 3.0) -> LogEntry:
    """The access-log entry of the request with ``marker``; polls briefly,
    since nginx writes the line after the response is sent."""
    end = time.monotonic() + deadline_s
    needle = shlex.quote(marker + '"')
    command = f"grep -F -- {needle} {shlex.quote(log_path)} | tail -n 1"
    for _ in range(100):
        out = host.run(command).stdout.strip()
        if out:
            entry = parse_line(out)
            if entry is None:
                raise LogLineNotFoundError(f"access log line for {marker} has an unknown format: {out[:200]}")
            return entry
        if time.monotonic() > end:
            break
        time.sleep(0.05)
    raise LogLineNotFoundError(f"no line for request {marker} in {log_path} within {deadline_s:.0f} s")
