"""Host facts asked once per host and process, then answered from memory
(many controls read the same ``ss`` or ``nginx -T`` output)."""

from __future__ import annotations

import threading

from deploycheck.hosts import testinfra_host
from deploycheck.inventory import Host

_CACHE: dict[tuple[str, str], tuple[int, str, str]] = {}
_LOCK = threading.Lock()


def command(node: Host, cmd: str) -> tuple[int, str, str]:
    """(rc, stdout, stderr) of ``cmd`` on the host, run at most once per process."""
    key = (node.name, cmd)
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    result = testinfra_host(node).run(cmd)
    value = (result.rc, result.stdout, result.stderr)
    with _LOCK:
        _CACHE[key] = value
    return value


def output(node: Host, cmd: str) -> str:
    rc, out, err = command(node, cmd)
    if rc != 0:
        raise AssertionError(f"{node.name}: '{cmd}' failed ({rc}): {err.strip()[:200]}")
    return out


def forget(node: Host) -> None:
    """Drop a host's cached facts (after a control changed something)."""
    with _LOCK:
        for key in [k for k in _CACHE if k[0] == node.name]:
            del _CACHE[key]
