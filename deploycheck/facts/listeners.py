"""Listening TCP sockets of a host and the processes behind them, read once with ``ss``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from deploycheck.facts import hostfacts
from deploycheck.inventory.loader import Node

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


def listening_tcp(node: Node) -> list[Listener]:
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


_CGROUP_LINE = re.compile(r"/proc/(?P<pid>\d+)/cgroup:(?P<line>.*)")


def cgroups_command(pids: list[int]) -> str:
    """One grep over every process's cgroup file (one program, not one per
    process): it names each file it matched; a process that has exited has none."""
    files = " ".join(f"/proc/{int(p)}/cgroup" for p in sorted(set(pids)))
    return f"grep -H -m1 -E '(name=systemd|^0::)' {files} 2>/dev/null; true"


def service_cgroups(node: Node, pids: list[int]) -> dict[int, str]:
    """The systemd cgroup path of each process (``gone`` when it has exited),
    in one command: a process in a service unit has a path ending ``/<unit>.service``."""
    if not pids:
        return {}
    every = [pid for sock in listening_tcp(node) for _, pid in sock.processes]
    asked = every if set(pids) <= set(every) else pids  # one command for all of a host's listeners
    return parse_cgroups(hostfacts.output(node, cgroups_command(asked)), pids)


def parse_cgroups(out: str, pids: list[int]) -> dict[int, str]:
    """``cgroups_command``'s answer: each pid's cgroup path, ``gone`` for one it did not name."""
    found: dict[int, str] = {}
    for line in out.splitlines():
        match = _CGROUP_LINE.match(line)
        if match and int(match["pid"]) in pids and int(match["pid"]) not in found:
            found[int(match["pid"])] = match["line"].rsplit(":", 1)[-1].strip()
    return found | {pid: "gone" for pid in pids if pid not in found}
