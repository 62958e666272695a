"""How deploycheck writes report files. Reports name hosts, ports and
findings, so the reports folder is the user's alone (0700, checked when it
already exists) and every file in it is 0600. A file is written under a new
name (``O_EXCL|O_NOFOLLOW``) and renamed over the final one: a symlink or file
planted under a report's name is replaced, never followed, truncated or
chmodded, and a reader never sees half a report."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class ReportsFolderError(Exception):
    """A reports folder others control: refused, since reports would leak or be redirected."""


def private_dir(directory: Path) -> None:
    """Make the reports folder (0700), or check an existing one: a real folder
    of the user's own, tightened to 0700 when others may read or write it."""
    with contextlib.suppress(FileExistsError):
        directory.mkdir(mode=PRIVATE_DIR, parents=True)
    info = directory.lstat()
    if stat.S_ISLNK(info.st_mode):
        raise ReportsFolderError(f"{directory} is a symlink; give the folder it points to")
    if not stat.S_ISDIR(info.st_mode):
        raise ReportsFolderError(f"{directory} is not a folder")
    if info.st_uid != os.geteuid():
        raise ReportsFolderError(f"{directory} belongs to another user (uid {info.st_uid})")
    if stat.S_IMODE(info.st_mode) != PRIVATE_DIR:
        os.chmod(directory, PRIVATE_DIR, follow_symlinks=False)


def write_atomic(path: Path, data: bytes, mode: int = PRIVATE_FILE) -> None:
    """Write ``path`` with exactly ``mode``, by a new file in its folder renamed over it."""
    folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    temp = f".{path.name}.{secrets.token_hex(6)}.tmp"
    try:
        fd = os.open(temp, _NEW_FILE, mode, dir_fd=folder)
        try:
            os.fchmod(fd, mode)  # whatever the umask
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(temp, path.name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            os.unlink(temp, dir_fd=folder)
            raise
    finally:
        os.close(folder)


def write_private(path: Path, text: str) -> None:
    """A UTF-8 report readable by the user alone (0600)."""
    write_atomic(path, text.encode("utf-8"))


def append_no_follow(path: str, text: str) -> None:
    """Append to a file another program gave us (e.g. ``$GITHUB_STEP_SUMMARY``),
    never through a symlink and only to a regular file; a blank line keeps the
    text apart from what is already there."""
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, PRIVATE_FILE)
    with os.fdopen(fd, "r+b") as out:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(f"not a regular file: {path}")
        tail = os.pread(fd, 2, max(info.st_size - 2, 0))
        gap = b"" if not tail or tail.endswith(b"\n\n") else b"\n" if tail.endswith(b"\n") else b"\n\n"
        out.write(gap + text.encode("utf-8"))
