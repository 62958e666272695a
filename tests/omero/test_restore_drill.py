"""The opt-in restore drill (seed 002: Restoring OMERO): a backup counts
only once it has been restored."""

from __future__ import annotations

import shlex

import pytest

from deploycheck.control import control
from deploycheck.facts import hostfacts
from deploycheck.inventory.variables import expect

COUNTS_SQL = ("select table_name, (xpath('/row/c/text()', query_to_xml("
              "format('select count(*) as c from public.%I', table_name), false, true, '')))[1]::text::bigint"
              " from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'")
VOLATILE = {"session"}  # grows with every login; the dump may hold fewer rows


def _psql(db: str, sql: str) -> str:
    return f"su postgres -c {shlex.quote(f'psql -X -At -F= -d {db} -c {shlex.quote(sql)}')}"


def _counts(host, db: str) -> dict[str, int]:  # noqa: ANN001
    out = host.run(_psql(db, COUNTS_SQL))
    assert out.rc == 0, f"counting rows in {db} failed: {out.stderr.strip()[:160]}"
    return {name: int(n) for name, n in (line.split("=", 1) for line in out.stdout.split())}


@control("OMERO-BACKUP-06", "The newest database dump restores with the live database's row counts", "high",
         "seed 002: Restoring OMERO (pg_restore -Fc)")
@pytest.mark.disruptive
@pytest.mark.hosts("database")
def test_restore_drill(node, host, request: pytest.FixtureRequest) -> None:  # noqa: ANN001
    """Restores into a scratch database, compares, and always drops it."""
    scratch, live = expect(node, "restore_scratch_db"), expect(node, "db_name")
    folder = expect(node, "pg_dump_dir")
    newest = hostfacts.output(node, f"ls -t {shlex.quote(folder)}/*.pg_dump 2>/dev/null | head -n 1").strip()
    assert newest, f"{node.name}: no dump in {folder} to restore"
    drop = f"su postgres -c {shlex.quote(f'dropdb --if-exists {scratch}')}"
    request.addfinalizer(lambda: host.run(drop))
    host.run(drop)
    created = host.run(f"su postgres -c {shlex.quote(f'createdb {scratch}')}")
    assert created.rc == 0, f"{node.name}: cannot create scratch database: {created.stderr.strip()[:160]}"
    restored = host.run(f"su postgres -c {shlex.quote(f'pg_restore --no-owner -d {scratch} {newest}')}")
    assert restored.rc == 0, f"{node.name}: pg_restore of {newest} failed: {restored.stderr.strip()[:200]}"
    got, want = _counts(host, scratch), _counts(host, live)
    differ = {t: (got.get(t), n) for t, n in want.items()
              if (got.get(t) != n if t not in VOLATILE else (got.get(t) is None or got[t] > n))}
    assert not differ, f"{node.name}: restored {newest} differs from {live} (restored, live): {differ}"


SCRATCH_PREFIX = "/tmp/deploycheck-restore."


def _tree_sums(host, parent: str, name: str) -> dict[str, str]:  # noqa: ANN001
    """sha256 of every file under parent/name, by path relative to parent."""
    out = host.run(f"cd {shlex.quote(parent)} && find {shlex.quote(name)} -type f -exec sha256sum {{}} +")
    assert out.rc == 0, f"checksums under {parent}/{name} failed: {out.stderr.strip()[:160]}"
    return {path: digest for digest, path in (line.split(None, 1) for line in out.stdout.splitlines())}


@control("OMERO-BACKUP-09", "A path of the binary repository restores from its backup with identical content",
         "high", "seed 002: Restoring your OMERO.server binary data store")
@pytest.mark.disruptive
@pytest.mark.hosts("omeroreadwrite")
def test_binary_restore_drill(node, host, request: pytest.FixtureRequest) -> None:  # noqa: ANN001
    """Restores a sample that never changes once written (an image's pixels)
    into a scratch folder, compares checksums with the live repository, and
    always removes the scratch folder. The repository itself is not touched."""
    command, sample = expect(node, "binary_restore_command"), expect(node, "binary_restore_sample")
    backup, repo = expect(node, "binary_backup_dir"), expect(node, "omero_data_dir").rstrip("/")
    if not (command and sample and backup):
        pytest.skip(f"{node.name}: set binary_backup_dir, binary_restore_command and binary_restore_sample")
    scratch = host.run(f"mktemp -d {SCRATCH_PREFIX}XXXXXX").stdout.strip()
    assert scratch.startswith(SCRATCH_PREFIX), f"{node.name}: cannot make a scratch folder in /tmp"
    request.addfinalizer(lambda: host.run(f"rm -rf -- {shlex.quote(scratch)}"))
    name = sample.strip("/").rsplit("/", 1)[-1]
    parent = f"{repo}/{sample.strip('/')}".rsplit("/", 1)[0]
    restore = command.format(backup=shlex.quote(backup), sample=shlex.quote(sample.strip("/")),
                             target=shlex.quote(f"{scratch}/{name}"))
    restored = host.run(restore)
    assert restored.rc == 0, f"{node.name}: restore failed ({restored.rc}): {restored.stderr.strip()[:200]}"
    live, got = _tree_sums(host, parent, name), _tree_sums(host, scratch, name)
    assert live, f"{node.name}: {repo}/{sample} holds no files to compare"
    differ = sorted(p for p in live if got.get(p) != live[p])
    assert not differ, f"{node.name}: restored copy differs from the repository for {len(differ)} file(s): " \
                       f"{', '.join(differ[:5])}"
