"""Data lives on separate volumes (seed 000: Backups, restores and upgrades)."""

from __future__ import annotations

import pytest

from deploycheck.controls import control
from deploycheck.variables import expect


@control("IDR-DATA-01", "Data directories that must be backed up are separate volumes", "high",
         "seed 000: Backups, restores and upgrades")
@pytest.mark.hosts("omeroreadwrite", "database")
def test_data_dirs_are_mount_points(node, host) -> None:  # noqa: ANN001
    paths = expect(node, "data_mounts")
    if not paths:
        pytest.skip(f"{node.name}: inventory lists no data_mounts")
    not_mounted = [p for p in paths if not host.mount_point(p).exists]
    assert not not_mounted, f"{node.name}: {not_mounted} are not mount points; expected separate volumes"


@control("IDR-DATA-02", "The Bio-Formats cache directory exists on the read-write server", "medium",
         "seed 000: Bio-Formats cache regeneration")
@pytest.mark.hosts("omeroreadwrite")
def test_bioformats_cache_dir(node, host) -> None:  # noqa: ANN001
    path = expect(node, "bioformats_cache_dir")
    assert host.file(path).is_directory, f"{node.name}: {path} is missing; expected the Bio-Formats cache"


@control("IDR-DB-01", "The PostgreSQL data directory is private to postgres (0700)", "high",
         "seed 000: idr-database:/var/lib/pgsql")
@pytest.mark.hosts("database")
def test_pg_data_dir_private(node, host) -> None:  # noqa: ANN001
    path = expect(node, "pg_data_dir")
    f = host.file(path)
    assert f.is_directory, f"{node.name}: {path} is not a directory"
    found = f"{f.user}:{oct(f.mode)}"
    assert f.user == "postgres" and f.mode == 0o700, f"{node.name}: {path} is {found}; expected postgres:0o700"
