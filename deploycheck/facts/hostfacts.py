"""Host facts asked once per host and process, then answered from memory
(many controls read the same ``ss`` or ``nginx -T`` output)."""

from __future__ import annotations

import shlex
import threading
from collections.abc import Callable
from dataclasses import dataclass

from deploycheck.inventory.loader import Node, RenderError, cut
from deploycheck.inventory.variables import VARIABLES, expect
from deploycheck.transport.remote import HostUnreachableError, reachability, run_many, testinfra_host

_CACHE: dict[tuple[str, str], tuple[int, str, str]] = {}
_LOCK = threading.Lock()
_AHEAD: dict[str, threading.Event] = {}  # hosts whose facts are being asked ahead, by name
AHEAD_WAIT_S = 120.0  # a control waits this long at most for the warm-up before asking itself
ON_FORGET: list[Callable[[Node], None]] = []  # also called by ``forget`` (the answers kept by question)
ASKER = threading.local()  # ``ASKER.ahead`` is true in the threads that ask ahead: they never wait on themselves


def command(node: Node, cmd: str) -> tuple[int, str, str]:
    """(rc, stdout, stderr) of ``cmd`` on the host, run at most once per process."""
    return commands(node, [cmd])[0]


def commands(node: Node, cmds: list[str]) -> list[tuple[int, str, str]]:
    """(rc, stdout, stderr) of each command, each run at most once per
    process; those not known yet are asked in one exchange."""
    pending = _AHEAD.get(node.name)
    if pending is not None and not getattr(ASKER, "ahead", False):
        pending.wait(AHEAD_WAIT_S)  # the answers are probably on their way already
    with _LOCK:
        missing = [c for c in dict.fromkeys(cmds) if (node.name, c) not in _CACHE]
    if missing:
        cause = reachability(node)
        if cause is not None:
            raise HostUnreachableError(cause)
        if len(missing) == 1:
            result = testinfra_host(node).run(missing[0])
            answers = [(result.rc, result.stdout, result.stderr)]
        else:
            answers = run_many(node, missing, ahead=False)
        store(node, dict(zip(missing, answers, strict=True)))
    with _LOCK:
        return [_CACHE[(node.name, c)] for c in cmds]


def asking_ahead(node: Node) -> threading.Event:
    """Mark the host's facts as being asked ahead; ``command`` waits until the event is set."""
    with _LOCK:
        return _AHEAD.setdefault(node.name, threading.Event())


def store(node: Node, answers: dict[str, tuple[int, str, str]]) -> None:
    """Keep answers asked ahead; a command already answered keeps its answer."""
    with _LOCK:
        for cmd, value in answers.items():
            _CACHE.setdefault((node.name, cmd), value)


def known(node: Node, cmd: str) -> bool:
    with _LOCK:
        return (node.name, cmd) in _CACHE


def output(node: Node, cmd: str) -> str:
    rc, out, err = command(node, cmd)
    if rc != 0:
        raise AssertionError(f"{node.name}: '{cmd}' failed ({rc}): {cut(err.strip(), 200)}")
    return out


def writable_command(user: str, path: str) -> str:
    return f"runuser -u {shlex.quote(user)} -- test -w {shlex.quote(path)}"


def writable_by(node: Node, user: str, path: str) -> bool:
    """Whether ``user`` may write ``path`` on the host, as the kernel decides for that user."""
    return command(node, writable_command(user, path))[0] == 0


ADDRESSES = "hostname -I"
HOSTS_FILE = "cat /etc/hosts"


def addresses(node: Node) -> list[str]:
    """The host's own addresses."""
    return output(node, ADDRESSES).split()


def hosts_file(node: Node) -> str:
    return output(node, HOSTS_FILE)


def forget(node: Node) -> None:
    """Drop a host's cached facts (after a control changed something)."""
    with _LOCK:
        for cache in (_CACHE, _PATHS):
            for key in [k for k in cache if k[0] == node.name]:
                del cache[key]
    for also in ON_FORGET:
        also(node)


@dataclass(frozen=True)
class PathInfo:
    """What ``stat`` and the mount table say about one path."""

    path: str
    exists: bool
    user: str = ""
    group: str = ""
    mode: int = 0
    kind: str = ""  # "regular file", "directory", ...
    mtime: int = 0
    size: int = 0
    mount_point: bool = False

    @property
    def is_directory(self) -> bool:
        return self.kind == "directory"


def inventory_paths(node: Node) -> list[str]:
    """Every absolute path a declared variable gives this host (prefetched
    together). Only declared variables: other inventory values, such as the
    controller's own key file, are never probed on hosts."""
    found: list[str] = []
    for name in VARIABLES:
        if name.endswith("_file"):
            continue
        try:
            value = expect(node, name)
        except RenderError:
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and item.startswith("/") and item not in found:
                found.append(item)
    return found


def stat_command(paths: list[str]) -> str:
    quoted = " ".join(shlex.quote(p) for p in paths)
    # one stat for every path (one program, not one per path); a path it cannot stat is missing from its output
    return (f"stat -c '%n|%U|%G|%a|%F|%Y|%s' -- {quoted} 2>/dev/null; "
            "echo '--mounts--'; cat /proc/self/mounts")


def _stat_many(node: Node, paths: list[str]) -> dict[str, PathInfo]:
    return parse_stats(output(node, stat_command(paths)), paths)


def parse_stats(out: str, paths: list[str]) -> dict[str, PathInfo]:
    """``stat_command``'s answer: each path's facts, missing for one stat did not name."""
    stats, _, mounts = out.partition("--mounts--")
    mounted = {line.split()[1].replace("\\040", " ") for line in mounts.splitlines() if len(line.split()) > 1}
    found: dict[str, PathInfo] = {}
    for line in stats.splitlines():
        parts = line.rsplit("|", 6)
        if len(parts) == 7:
            name, user, group, mode, kind, mtime, size = parts
            found[name] = PathInfo(name, True, user, group, int(mode, 8), kind, int(mtime), int(size),
                                   name.rstrip("/") in mounted)
    return found | {p: PathInfo(p, False) for p in paths if p not in found}


_PATHS: dict[tuple[str, str], PathInfo] = {}


def path(node: Node, wanted: str) -> PathInfo:
    """Facts of ``wanted``; the first call on a host stats every inventory path
    at once (the same command the warm-up asks ahead), other paths one by one."""
    key = (node.name, wanted)
    with _LOCK:
        if key in _PATHS:
            return _PATHS[key]
    every = inventory_paths(node)
    infos = _stat_many(node, every if wanted in every else [wanted])
    with _LOCK:
        for name, info in infos.items():
            _PATHS[(node.name, name)] = info
        return _PATHS.get(key, PathInfo(wanted, False))
