"""TCP reachability as seen from a vantage host (e.g. outside the private network)."""

from __future__ import annotations

import shlex

from deploycheck.facts import hostfacts
from deploycheck.inventory.loader import Host

PROBE_TIMEOUT_S = 2


def reachable_ports(vantage: Host, address: str, ports: list[int]) -> list[int]:
    """Ports of ``address`` that accept a TCP connection from ``vantage`` (one command)."""
    if not ports:
        return []
    plist = " ".join(str(int(p)) for p in ports)
    cmd = (f"for p in {plist}; do nc -z -w {PROBE_TIMEOUT_S} {shlex.quote(address)} $p >/dev/null 2>&1 "
           f"&& echo $p; done; true")
    return [int(p) for p in hostfacts.output(vantage, cmd).split()]
