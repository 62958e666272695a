"""Seed 004, Further configuration (files stored in /opt/vidjil) and Web2py
runs but does not allow any connection: the database, uploads, results and
logs live outside the containers, on mounts that are writable."""

from __future__ import annotations

import re
import shlex
from typing import TYPE_CHECKING, Any

import pytest

from deploycheck.control import control
from deploycheck.inventory.variables import expect
from deploycheck.transport import compose

if TYPE_CHECKING:
    from deploycheck.inventory.loader import Node

pytestmark = pytest.mark.hosts("vidjil")
READS = ("persistent_paths",)

ANONYMOUS = re.compile(r"^[0-9a-f]{64}$")  # a volume docker named itself: dropped with the container


def _mounts(node: Node) -> dict[str, dict[str, dict[str, Any]]]:
    """service -> wanted path -> the mount that holds it ({} when none does)."""
    found = compose.services(node)
    result: dict[str, dict[str, dict[str, Any]]] = {}
    for service, paths in expect(node, "persistent_paths").items():
        if service not in found:
            raise AssertionError(f"{node.name}: no container of service '{service}'")
        mounts = found[service].attrs.get("Mounts", [])
        result[service] = {}
        for path in paths:
            holders = [m for m in mounts
                       if path == m["Destination"] or path.startswith(m["Destination"].rstrip("/") + "/")]
            result[service][path] = max(holders, key=lambda m: len(m["Destination"]), default={})
    return result


@control("VIDJIL-VOL-01", "The database, uploads, results and logs are kept outside the containers", "critical",
         "seed 004: Further configuration (files stored in /opt/vidjil)")
def test_data_outside_containers(node: Node) -> None:
    """A file written into a container's own layer, or into an anonymous volume,
    is lost when the container is recreated (an upgrade, `down`)."""
    lost = []
    for service, paths in _mounts(node).items():
        for path, mount in paths.items():
            if not mount:
                lost.append(f"{service}:{path} (inside the container)")
            elif mount["Type"] == "volume" and ANONYMOUS.match(mount.get("Name", "")):
                lost.append(f"{service}:{path} (anonymous volume)")
            elif mount["Type"] not in ("bind", "volume"):
                lost.append(f"{service}:{path} ({mount['Type']})")
    assert not lost, f"{node.name}: not kept outside the containers: {', '.join(lost)}"


@control("VIDJIL-VOL-02", "The data folders are mounted writable", "critical",
         "seed 004: Web2py runs but does not allow any connection")
def test_data_writable(node: Node) -> None:
    """A read-only mount (in the compose file, or a disk the kernel remounted
    read-only after errors) stops every login and upload; read from the mount
    table inside each container, nothing is written."""
    readonly = []
    for service, paths in _mounts(node).items():
        for path, mount in paths.items():
            if not mount:
                continue  # not a mount at all: VIDJIL-VOL-01's finding
            if not mount.get("RW", True):
                readonly.append(f"{service}:{path} (mounted read-only)")
                continue
            target = mount["Destination"]
            code, out = compose.run(node, service,
                                    f"awk -v t={shlex.quote(target)} '$2 == t {{print $4}}' /proc/mounts")
            options = out.strip().splitlines()[-1:]
            assert code == 0 and options, f"{node.name}: cannot read the mount table of {service} for {target}"
            if "ro" in options[0].split(","):
                readonly.append(f"{service}:{path} (read-only file system)")
    assert not readonly, f"{node.name}: {', '.join(readonly)}"
