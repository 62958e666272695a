"""Seed 000 (Backups, restores and upgrades; Bio-Formats cache regeneration)
and OMERO.server's binary repository (permissions): the data that must be
backed up lives on separate volumes, the Bio-Formats cache has its folder on
the read-write server, and the binary repository is writable by the OMERO
user and by no one else."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control
from deploycheck.facts import datadirs, hostfacts
from deploycheck.facts.question import ask
from deploycheck.inventory.variables import expect

if TYPE_CHECKING:
    from deploycheck.inventory.loader import Node

pytestmark = pytest.mark.hosts("omeroreadwrite")
READS = ("data_mounts", "bioformats_cache_dir", "omero_user", "omero_data_dir")  # pg_data_dir: through facts.datadirs


@control("IDR-DATA-01", "Data directories that must be backed up are separate volumes", "high",
         "seed 000: Backups, restores and upgrades", reads=(datadirs.filesystems,))
@pytest.mark.hosts("omeroreadwrite", "database")
def test_data_dirs_are_mount_points(node: Node) -> None:
    """A separate volume is backed up, restored and carried over an upgrade
    on its own; data in a host's root file system goes with the host. The
    data directories themselves (the binary repository, the PostgreSQL data),
    symlinks followed, must live on such a volume, not on the root file system."""
    paths = expect(node, "data_mounts")
    if not paths:
        pytest.skip(f"{node.name}: inventory lists no data_mounts")
    not_mounted = [p for p in paths if not hostfacts.path(node, p).mount_point]
    assert not not_mounted, f"{node.name}: {not_mounted} are not mount points; expected separate volumes"
    on_root = []
    filesystems = ask(datadirs.filesystems, node) or {}
    for d in datadirs.data_dirs(node):
        fs = filesystems[d]
        if fs in ("", "/"):
            on_root.append(f"{d} ({'missing' if not fs else 'on /'})")
    assert not on_root, f"{node.name}: data directories not on a separate volume: {on_root}"


@control("IDR-DATA-02", "The Bio-Formats cache directory exists on the read-write server", "medium",
         "seed 000: Bio-Formats cache regeneration", shell=True)
def test_bioformats_cache_dir(node: Node) -> None:
    """The regeneration writes the memo files there; without the folder
    every first view of an image parses its files again."""
    path = expect(node, "bioformats_cache_dir")
    assert hostfacts.path(node, path).is_directory, f"{node.name}: {path} is missing; expected the Bio-Formats cache"


@control("IDR-DATA-03", "The binary repository is writable by the OMERO user", "high",
         "OMERO.server binary repository (permissions)", reads=(datadirs.repository_writable,))
def test_binary_repository_writable(node: Node) -> None:
    """OMERO writes imports, pixels and its own backups there; a repository
    it cannot write fails every import."""
    user, data = expect(node, "omero_user"), expect(node, "omero_data_dir")
    writable = ask(datadirs.repository_writable, node)
    blocked = [p for p in (data, f"{data}/Pixels") if not writable[p]]
    assert not blocked, f"{node.name}: {blocked} not writable by {user}; OMERO cannot write pixels there"


@control("IDR-DATA-04", "Nothing in the binary repository is world-writable", "high",
         "OMERO.server binary repository (permissions)", reads=(datadirs.world_writable,))
def test_binary_repository_not_world_writable(node: Node) -> None:
    """Any local user could replace the pixels and files that the public
    site serves."""
    data = expect(node, "omero_data_dir")
    found = ask(datadirs.world_writable, node)
    assert not found, f"{node.name}: world-writable under {data}: {found}"
