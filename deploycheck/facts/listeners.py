"""Listening TCP sockets of a host and the processes behind them, read once with ``ss``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from deploycheck.facts import hostfacts
from deploycheck.inventory.loader import Host

_PID = re.compile(r'\("([^"]*)",pid=(\d+)')
COMMAND = "ss -Htlnp"


@dataclass(frozen=True)
class Listener:
    address: str
    port: int
    processes: tuple[tuple[str, int], ...]  # (command name, pid)

    @property
    def loopback(self) -> bool:
        return self.address.startswith("127.") or self.address == "::1"


def listening_tcp(node: Host) -> list[Listener]:
    """Every listening TCP socket; ``*``, ``0.0.0.0`` and ``[::]`` count as public."""
    found: list[Listener] = []
    for line in hostfacts.output(node, COMMAND).splitlines():
        cols = line.split()
        if len(cols) < 4:
            continue
        addr, _, port = cols[3].rpartition(":")
        addr = addr.strip("[]").split("%")[0] or "*"
        if port.isdigit():
            procs = tuple((name, int(pid)) for name, pid in _PID.findall(line))
            found.append(Listener(addr, int(port), procs))
    return found


def cgroups_command(pids: list[int]) -> str:
    return ("for p in " + " ".join(str(int(p)) for p in sorted(set(pids))) +
            "; do printf '%s ' $p; grep -m1 -E '(name=systemd|^0::)' /proc/$p/cgroup 2>/dev/null || echo gone; done")


def service_cgroups(node: Host, pids: list[int]) -> dict[int, str]:
    """The systemd cgroup path of each process (``gone`` when it has exited),
    in one command: a process in a service unit has a path ending ``/<unit>.service``."""
    if not pids:
        return {}
    every = [pid for sock in listening_tcp(node) for _, pid in sock.processes]
    asked = every if set(pids) <= set(every) else pids  # one command for all of a host's listeners
    out = hostfacts.output(node, cgroups_command(asked))
    found = {}
    for line in out.splitlines():
        pid, _, cgroup = line.partition(" ")
        if pid.isdigit() and int(pid) in pids:
            found[int(pid)] = cgroup.rsplit(":", 1)[-1].strip() if cgroup.strip() != "gone" else "gone"
    return found
