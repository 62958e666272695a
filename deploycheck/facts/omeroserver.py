"""An OMERO.server installation as its files show it: the version it was
built as (etc/omero.properties), where its servers write their logs
(OMERO_LOGS of etc/grid/default.xml, relative to the installation) and the
log files there with their sizes. One command each, answered from memory."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from deploycheck.facts import hostfacts
from deploycheck.inventory.loader import Node
from deploycheck.inventory.variables import expect

ROTATED = re.compile(r"^(?P<base>.+?)\.(?P<index>\d+)(?P<gz>\.gz|\.xz|\.bz2|\.zst)?$")


def _dir(node: Node) -> str:
    return str(expect(node, "omero_server_dir")).rstrip("/")


def version_command(node: Node) -> str:
    return f"cat -- {shlex.quote(_dir(node) + '/etc/omero.properties')} 2>/dev/null; true"


def grid_command(node: Node) -> str:
    return f"cat -- {shlex.quote(_dir(node) + '/etc/grid/default.xml')}"


def logs_command(folder: str) -> str:
    return f"cd -- {shlex.quote(folder)} && find . -maxdepth 1 -type f -printf '%s %f\\n'"


def mount_command(folder: str) -> str:
    return f"stat -L -c %m -- {shlex.quote(folder)}"


def version(node: Node) -> str | None:
    """``omero.version`` of etc/omero.properties (e.g. ``5.6.10-ice36``), None when absent."""
    text = hostfacts.output(node, version_command(node))
    found = re.search(r"^omero\.version\s*=\s*(\S+)", text, re.MULTILINE)
    return found.group(1) if found else None


def log_dir(node: Node) -> str | None:
    """The servers' log folder: OMERO_LOGS of etc/grid/default.xml (default var/log/)."""
    rc, text, _ = hostfacts.command(node, grid_command(node))
    if rc != 0:
        return None
    found = re.search(r'<variable\s+name="OMERO_LOGS"\s+value="([^"]*)"', text)
    folder = found.group(1) if found else "var/log/"
    return (folder if folder.startswith("/") else f"{_dir(node)}/{folder}").rstrip("/")


@dataclass(frozen=True)
class LogFile:
    name: str
    size: int

    @property
    def rotated(self) -> re.Match[str] | None:
        return ROTATED.match(self.name)


def log_files(node: Node, folder: str) -> list[LogFile] | None:
    """Every file in the log folder with its size; None when the folder is missing."""
    rc, out, _ = hostfacts.command(node, logs_command(folder))
    if rc != 0:
        return None
    return [LogFile(name, int(size)) for size, _, name in (line.partition(" ") for line in out.splitlines())
            if size.isdigit()]


def version_tuple(text: str) -> tuple[int, ...]:
    """(5, 6, 10) of "5.6.10-ice36"; () when it does not start with numbers."""
    found = re.match(r"(\d+(?:\.\d+)*)", text.strip())
    return tuple(int(p) for p in found.group(1).split(".")) if found else ()
