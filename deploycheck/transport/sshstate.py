"""The SSH state of a run: the folder of control sockets (this process's own,
or the one the run shares, see ``share_control_dir``) and ssh's own
resolution of each host's configuration (``ssh -G``), kept for the run and
handed from pytest-xdist's controller to its workers. deploycheck.inventory.connection
says how the inventory reaches a host; this module holds what reaching it left."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import stat
import subprocess
import tempfile
import threading
from pathlib import Path

from deploycheck.inventory.loader import InventoryError


def control_options() -> list[str]:
    return ["-o", "ControlMaster=auto", "-o", f"ControlPath={control_dir()}/%C", "-o", "ControlPersist=no"]


class SshSettings:
    """ssh's own resolution of its configuration per host (``ssh -G``, empty
    when it cannot tell), kept for the run. The controller hands what it
    resolved to the workers sharing its connections (their options are the
    same), which then start no ``ssh -G`` of their own for those hosts."""

    def __init__(self) -> None:
        self._known: dict[tuple[tuple[str, ...], str], dict[str, str]] = {}
        self._lock = threading.Lock()

    def __call__(self, options: tuple[str, ...], address: str) -> dict[str, str]:
        with self._lock:
            found = self._known.get((options, address))
        if found is None:
            found = _ssh_g(options, address)
            with self._lock:
                found = self._known.setdefault((options, address), found)
        return found

    def cache_clear(self) -> None:
        with self._lock:
            self._known.clear()

    def known(self) -> list[list[object]]:
        """What was resolved so far, as plain values for a worker."""
        with self._lock:
            return [[list(options), address, dict(found)] for (options, address), found in self._known.items()]

    def adopt(self, entries: object) -> None:
        """The controller's resolutions; anything not shaped like ``known``'s is ignored."""
        if not isinstance(entries, list):
            return
        for entry in entries:
            if (isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], list)
                    and all(isinstance(o, str) for o in entry[0]) and isinstance(entry[1], str)
                    and isinstance(entry[2], dict)
                    and all(isinstance(k, str) and isinstance(v, str) for k, v in entry[2].items())):
                with self._lock:
                    self._known.setdefault((tuple(entry[0]), entry[1]), dict(entry[2]))


def _ssh_g(options: tuple[str, ...], address: str) -> dict[str, str]:
    try:
        done = subprocess.run(["ssh", "-G", *options, "--", address], capture_output=True, text=True,
                              timeout=10, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return {}
    return dict(line.partition(" ")[::2] for line in done.stdout.splitlines()) if done.returncode == 0 else {}


SETTINGS = SshSettings()


def resolved_settings() -> list[list[object]]:
    """This process's ``ssh -G`` resolutions, for the workers (see ``SshSettings``)."""
    return SETTINGS.known()


def adopt_settings(entries: object) -> None:
    """A worker takes the controller's ``ssh -G`` resolutions (see ``SshSettings``)."""
    SETTINGS.adopt(entries)


def socket_path(options: tuple[str, ...], address: str) -> Path | None:
    path = SETTINGS(options, address).get("controlpath", "")
    return Path(path) if path.startswith("/") else None


_ONCE = threading.Lock()
_SHARED: list[Path] = []  # the run's folder, when this process shares the controller's connections


def control_dir() -> Path:
    """The folder of SSH control sockets: the one the run shares (see
    ``share_control_dir``), else this process's own (made private by mkdtemp,
    removed at exit): no other user or process can plant one there. One per
    process, also when threads ask for it at once."""
    with _ONCE:
        return _SHARED[0] if _SHARED else _make_control_dir()


def share_control_dir(path: Path) -> None:
    """Reach SSH hosts through the master connections another process of
    the run (pytest-xdist's controller) keeps in ``path``: a channel on an
    open connection instead of a login. Refused unless the folder is this
    user's and private, as mkdtemp made it."""
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise InventoryError(f"{path}: not a private folder of this user; SSH connections are not shared")
    with _ONCE:
        _SHARED[:] = [path]


def sharing_control_dir() -> bool:
    """True in a process that uses the run's shared folder (not its own)."""
    return bool(_SHARED)


@functools.cache
def _make_control_dir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="deploycheck-ssh-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path
