"""Where the CPU of a measured run goes: the machine in all, the suite's own
processes (pytest, its workers, their ssh), and the reference hosts' containers.

On this bench the hosts share the controller's CPUs, which real hosts do not:
with many hosts, the CPU they all need, not the suite's waiting, can bound the
wall time. ``floor_s`` says by how much: the least a run using that much CPU
could take with every CPU busy from its first to its last second.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

DOCKER_V1 = Path("/sys/fs/cgroup/cpuacct/docker/cpuacct.usage")  # nanoseconds, all containers
DOCKER_V2 = Path("/sys/fs/cgroup/system.slice")  # docker-<id>.scope/cpu.stat, usage_usec


def machine_busy_s() -> float:
    """CPU seconds the whole machine has spent busy since boot (not idle, not waiting on I/O)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def containers_s() -> float | None:
    """CPU seconds all Docker containers have used (cgroup v1 or v2), None where unreadable."""
    with contextlib.suppress(OSError, ValueError):
        return int(DOCKER_V1.read_text()) / 1e9
    with contextlib.suppress(OSError, ValueError):
        total = 0
        for scope in DOCKER_V2.glob("docker-*.scope"):
            stat = dict(line.split() for line in (scope / "cpu.stat").read_text().splitlines())
            total += int(stat["usage_usec"])
        return total / 1e6
    return None


def children_s() -> float:
    """CPU seconds of this process's children that have ended, theirs included."""
    times = os.times()
    return times.children_user + times.children_system


@contextlib.contextmanager
def used(runs: int = 1) -> Iterator[dict[str, float | None]]:
    """CPU used while the block runs, per run of ``runs``: filled in when it ends.
    The suite's share counts only processes that ended within the block."""
    result: dict[str, float | None] = {}
    machine, suite, hosts = machine_busy_s(), children_s(), containers_s()
    yield result
    busy, after = (machine_busy_s() - machine) / runs, containers_s()
    result["machine_s"] = round(busy, 2)
    result["suite_s"] = round((children_s() - suite) / runs, 2)
    result["hosts_s"] = round((after - hosts) / runs, 2) if after is not None and hosts is not None else None
    result["floor_s"] = round(busy / (os.cpu_count() or 1), 2)
