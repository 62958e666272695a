"""Data lives on separate volumes and keeps sane permissions (seeds 000, 003)."""

from __future__ import annotations

import shlex

import pytest

from deploycheck.control import control
from deploycheck.facts import hostfacts
from deploycheck.inventory.variables import expect


@control("IDR-DATA-01", "Data directories that must be backed up are separate volumes", "high",
         "seed 000: Backups, restores and upgrades")
@pytest.mark.hosts("omeroreadwrite", "database")
def test_data_dirs_are_mount_points(node, host) -> None:  # noqa: ANN001
    paths = expect(node, "data_mounts")
    if not paths:
        pytest.skip(f"{node.name}: inventory lists no data_mounts")
    not_mounted = [p for p in paths if not hostfacts.path(node, p).mount_point]
    assert not not_mounted, f"{node.name}: {not_mounted} are not mount points; expected separate volumes"


@control("IDR-DATA-02", "The Bio-Formats cache directory exists on the read-write server", "medium",
         "seed 000: Bio-Formats cache regeneration")
@pytest.mark.hosts("omeroreadwrite")
def test_bioformats_cache_dir(node, host) -> None:  # noqa: ANN001
    path = expect(node, "bioformats_cache_dir")
    assert hostfacts.path(node, path).is_directory, f"{node.name}: {path} is missing; expected the Bio-Formats cache"


def _writable_by(host, user: str, path: str) -> bool:  # noqa: ANN001
    return host.run(f"runuser -u {shlex.quote(user)} -- test -w {shlex.quote(path)}").rc == 0


@control("IDR-DATA-03", "The binary repository is writable by the OMERO user", "high",
         "OMERO.server binary repository (permissions)")
@pytest.mark.hosts("omeroreadwrite")
def test_binary_repository_writable(node, host) -> None:  # noqa: ANN001
    user, data = expect(node, "omero_user"), expect(node, "omero_data_dir")
    blocked = [p for p in (data, f"{data}/Pixels") if not _writable_by(host, user, p)]
    assert not blocked, f"{node.name}: {blocked} not writable by {user}; OMERO cannot write pixels there"


@control("IDR-DATA-04", "Nothing in the binary repository is world-writable", "high",
         "OMERO.server binary repository (permissions)")
@pytest.mark.hosts("omeroreadwrite")
def test_binary_repository_not_world_writable(node, host) -> None:  # noqa: ANN001
    data = expect(node, "omero_data_dir")
    out = host.run(f"find {shlex.quote(data)} -xdev -perm -o+w ! -type l -print 2>/dev/null | head -n 5").stdout
    found = out.split()
    assert not found, f"{node.name}: world-writable under {data}: {found}"


@control("IDR-DB-01", "The PostgreSQL data directory is private to postgres (0700)", "high",
         "seed 000: idr-database:/var/lib/pgsql")
@pytest.mark.hosts("database")
def test_pg_data_dir_private(node, host) -> None:  # noqa: ANN001
    path = expect(node, "pg_data_dir")
    f = hostfacts.path(node, path)
    assert f.is_directory, f"{node.name}: {path} is not a directory"
    found = f"{f.user}:{oct(f.mode)}"
    assert f.user == "postgres" and f.mode == 0o700, f"{node.name}: {path} is {found}; expected postgres:0o700"
