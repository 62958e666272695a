"""Seed 002, Backing up your PostgreSQL database, Backing up your binary data
store, and Restoring OMERO (pg_restore -Fc; restoring your OMERO.server
binary data store): a daily job dumps the database and another backs up the
whole binary repository; the newest dump is recent, readable and private;
the configuration backup is recent and private; and, as opt-in drills, the
backups restore to what is live."""

from __future__ import annotations

import re
import shlex
from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control
from deploycheck.facts import backup, hostfacts
from deploycheck.facts.question import ask
from deploycheck.inventory.loader import cut
from deploycheck.inventory.variables import expect
from deploycheck.transport import shelltemplate

if TYPE_CHECKING:
    import testinfra.host

    from deploycheck.inventory.loader import Node

pytestmark = pytest.mark.hosts("database")
READS = ("pg_dump_dir", "pg_dump_job", "backup_max_age_h", "config_backup", "omero_data_dir", "backup_tools",
         "binary_backup_dir", "restore_scratch_db", "db_name", "binary_restore_command", "binary_restore_sample",
         "omero_cli", "grid_default_xml_edited")  # omero_server_dir and default_xml_backup: through facts.backup

REF_DB = "seed 002: Backing up your PostgreSQL database"
REF_BINARY = "seed 002: Backing up your binary data store"
COUNTS_SQL = ("select table_name, (xpath('/row/c/text()', query_to_xml("
              "format('select count(*) as c from public.%I', table_name), false, true, '')))[1]::text::bigint"
              " from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'")
VOLATILE = {"session"}  # grows with every login; the dump may hold fewer rows
SCRATCH_PREFIX = "/tmp/deploycheck-restore."
RUN_PARTS_NAME = re.compile(r"[A-Za-z0-9_-]+")  # run-parts' default naming rule (no dots)
DB_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,62}")  # a plain PostgreSQL identifier: nothing a shell reads


def _psql(db: str, sql: str) -> str:
    return f"su postgres -c {shlex.quote(f'psql -X -At -F= -d {shlex.quote(db)} -c {shlex.quote(sql)}')}"


def _counts(host: testinfra.host.Host, db: str) -> dict[str, int]:
    out = host.run(_psql(db, COUNTS_SQL))
    assert out.rc == 0, f"counting rows in {db} failed: {cut(out.stderr.strip(), 160)}"
    return {name: int(n) for name, n in (line.split("=", 1) for line in out.stdout.split())}


def _tree_sums(host: testinfra.host.Host, parent: str, name: str) -> dict[str, str]:
    """sha256 of every file under parent/name, by path relative to parent."""
    out = host.run(f"cd {shlex.quote(parent)} && find {shlex.quote(name)} -type f -exec sha256sum {{}} +")
    assert out.rc == 0, f"checksums under {parent}/{name} failed: {cut(out.stderr.strip(), 160)}"
    return {path: digest for digest, path in (line.split(None, 1) for line in out.stdout.splitlines())}


@control("OMERO-BACKUP-01", "A daily cron job dumps the database with pg_dump -Fc", "high", REF_DB,
         reads=(backup.dump_job,))
def test_daily_pg_dump_job(node: Node) -> None:
    """Without a dump taken every day, a lost database loses everything
    since the last one; -Fc is the format pg_restore needs."""
    job = expect(node, "pg_dump_job")
    f = hostfacts.path(node, job)
    assert f.exists, f"{node.name}: {job} is missing; expected a daily pg_dump job"
    assert f.mode & 0o111, f"{node.name}: {job} is not executable (mode {oct(f.mode)}); run-parts skips it"
    text = ask(backup.dump_job, node)
    assert "pg_dump" in text and "-Fc" in text, f"{node.name}: {job} does not run 'pg_dump -Fc'"


@control("OMERO-BACKUP-02", "The newest database dump is recent", "high", REF_DB,
         reads=(backup.newest_dump, backup.now))
def test_newest_dump_recent(node: Node) -> None:
    """A job that silently stopped still looks fine in cron; only the age
    of the newest dump shows it."""
    path, mtime, _ = ask(backup.newest_dump, node)
    age_h = (ask(backup.now, node) - mtime) / 3600
    limit = float(expect(node, "backup_max_age_h"))
    assert age_h <= limit, f"{node.name}: newest dump {path} is {age_h:.1f} h old; expected at most {limit:g} h"


@control("OMERO-BACKUP-03", "The newest database dump is a readable pg_dump archive", "high", REF_DB,
         reads=(backup.newest_dump,))
def test_newest_dump_valid(node: Node, host: testinfra.host.Host) -> None:
    """An empty or truncated dump is discovered on the day it is needed."""
    path, _, _ = ask(backup.newest_dump, node)
    result = host.run(f"pg_restore --list {shlex.quote(path)} | grep -c 'TABLE DATA'")
    tables = int(result.stdout.strip() or 0)
    assert tables > 0, f"{node.name}: pg_restore --list {path} lists no table data ({cut(result.stderr.strip(), 120)})"


@control("OMERO-BACKUP-04", "Database dumps are not readable by other users", "high",
         "seed 002: Consider OMERO database dumps to be sensitive (session UUIDs)", reads=(backup.readable_dumps,))
def test_dumps_private(node: Node) -> None:
    """Dumps hold session UUIDs, which log anyone in who reads them; so does
    any other dump kept in the dump folder (a plain SQL dump made before an
    upgrade), whatever its name."""
    readable = ask(backup.readable_dumps, node)
    assert not readable, f"{node.name}: dumps readable by others: {readable[:3]}; they hold session UUIDs"


@control("OMERO-BACKUP-05", "The OMERO configuration backup exists, is recent and private", "medium",
         "seed 002: omero config get > /OMERO/backup/omero.config", reads=(backup.config_properties, backup.now))
@pytest.mark.hosts("omeroreadwrite")
def test_config_backup(node: Node) -> None:
    """A restored server needs its configuration too, and the file holds
    the database password."""
    path = expect(node, "config_backup")
    f = hostfacts.path(node, path)
    assert f.exists and f.size > 0, f"{node.name}: {path} is missing or empty; expected `omero config get` output"
    assert not f.mode & 0o004, f"{node.name}: {path} is readable by others (mode {oct(f.mode)}); it holds passwords"
    props = ask(backup.config_properties, node)
    assert props, f"{node.name}: {path} holds no omero.* properties"
    age_h = (ask(backup.now, node) - f.mtime) / 3600
    limit = float(expect(node, "backup_max_age_h"))
    assert age_h <= limit, f"{node.name}: {path} is {age_h:.1f} h old; expected at most {limit:g} h"


@control("OMERO-BACKUP-06", "The newest database dump restores with the live database's row counts", "high",
         "seed 002: Restoring OMERO (pg_restore -Fc)")
@pytest.mark.disruptive
def test_restore_drill(node: Node, host: testinfra.host.Host, request: pytest.FixtureRequest) -> None:
    """A backup counts only once it has been restored. Restores into a
    scratch database, compares, and always drops it."""
    scratch, live = expect(node, "restore_scratch_db"), expect(node, "db_name")
    for name in (scratch, live):
        assert DB_NAME.fullmatch(name), f"{node.name}: '{name}' is not a plain database name"
    folder = expect(node, "pg_dump_dir")
    newest = hostfacts.output(node, f"ls -t {shlex.quote(folder)}/*.pg_dump 2>/dev/null | head -n 1").strip()
    assert newest, f"{node.name}: no dump in {folder} to restore"
    drop = f"su postgres -c {shlex.quote(f'dropdb --if-exists -- {scratch}')}"
    request.addfinalizer(lambda: host.run(drop))
    host.run(drop)
    created = host.run(f"su postgres -c {shlex.quote(f'createdb -- {scratch}')}")
    assert created.rc == 0, f"{node.name}: cannot create scratch database: {cut(created.stderr.strip(), 160)}"
    restored = host.run(f"su postgres -c {shlex.quote(f'pg_restore --no-owner -d {scratch} -- {shlex.quote(newest)}')}")
    assert restored.rc == 0, f"{node.name}: pg_restore of {newest} failed: {cut(restored.stderr.strip(), 200)}"
    got, want = _counts(host, scratch), _counts(host, live)
    differ = {t: (got.get(t), n) for t, n in want.items()
              if (got.get(t) != n if t not in VOLATILE else (got.get(t) is None or got[t] > n))}
    assert not differ, f"{node.name}: restored {newest} differs from {live} (restored, live): {differ}"


@control("OMERO-BACKUP-07", "A daily job backs up the whole binary repository", "high", REF_BINARY,
         reads=(backup.jobs_naming_repository,))
@pytest.mark.hosts("omeroreadwrite")
def test_binary_repository_backup_job(node: Node, host: testinfra.host.Host) -> None:
    """The entire repository (which also holds the database and configuration
    backups) must be backed up frequently; the docs' example is a script in
    /etc/cron.daily. A job naming only a folder inside it (e.g. .../backup)
    does not count: the repository itself must be the thing backed up."""
    repo = expect(node, "omero_data_dir").rstrip("/")
    named = ask(backup.jobs_naming_repository, node)
    assert named, f"{node.name}: no cron job names {repo}; expected a daily backup of the binary repository"
    tools = "|".join(re.escape(t) for t in expect(node, "backup_tools"))
    runs_tool = f"sed '/^[[:space:]]*#/d' \"$f\" | grep -qwE -- {shlex.quote(tools)}"  # comments do not count
    found = host.run("for f in " + " ".join(shlex.quote(f) for f in named) +
                     f"; do {runs_tool} && echo \"$f\"; done").stdout.split()
    assert found, f"{node.name}: the jobs naming {repo} ({', '.join(named)}) run none of {expect(node, 'backup_tools')}"
    daily = [f for f in found if f.startswith("/etc/cron.daily/")]
    if daily:
        runnable = host.run("for f in " + " ".join(shlex.quote(f) for f in daily) +
                            "; do [ -x \"$f\" ] && echo \"$f\"; done").stdout.split()
        # run-parts (as cron calls it) runs only names made of letters, digits, _ and -: not job.sh
        runnable = [f for f in runnable if RUN_PARTS_NAME.fullmatch(f.rsplit("/", 1)[-1])]
        assert runnable or len(found) > len(daily), \
            f"{node.name}: {', '.join(daily)} not executable or not a name run-parts runs; run-parts skips it"


@control("OMERO-BACKUP-08", "The binary repository backup is recent", "high", REF_BINARY,
         reads=(backup.newest_binary_backup, backup.now))
@pytest.mark.hosts("omeroreadwrite")
def test_binary_repository_backup_recent(node: Node) -> None:
    """The job may exist and still fail every night; the age of the backup
    shows it."""
    folder = expect(node, "binary_backup_dir")
    if not folder:
        pytest.skip(f"{node.name}: binary_backup_dir not set (the backup goes to another machine)")
    out = ask(backup.newest_binary_backup, node)
    assert out, f"{node.name}: {folder} is missing or empty; expected the binary repository's backup"
    age_h = (ask(backup.now, node) - float(out)) / 3600
    limit = float(expect(node, "backup_max_age_h"))
    assert age_h <= limit, f"{node.name}: newest file in {folder} is {age_h:.1f} h old; expected at most {limit:g} h"


@control("OMERO-BACKUP-09", "A path of the binary repository restores from its backup with identical content",
         "high", "seed 002: Restoring your OMERO.server binary data store")
@pytest.mark.disruptive
@pytest.mark.hosts("omeroreadwrite")
def test_binary_restore_drill(node: Node, host: testinfra.host.Host, request: pytest.FixtureRequest) -> None:
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
    # the values reach the template as sh's positional parameters, never as text the shell parses again
    restore = shelltemplate.fill(command, {"backup": backup, "sample": sample, "target": f"{scratch}/{name}"})
    restored = host.run(restore)
    assert restored.rc == 0, f"{node.name}: restore failed ({restored.rc}): {cut(restored.stderr.strip(), 200)}"
    live, got = _tree_sums(host, parent, name), _tree_sums(host, scratch, name)
    assert live, f"{node.name}: {repo}/{sample} holds no files to compare"
    differ = sorted(p for p in live if got.get(p) != live[p])
    assert not differ, f"{node.name}: restored copy differs from the repository for {len(differ)} file(s): " \
                       f"{', '.join(differ[:5])}"


def _properties(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


@control("OMERO-BACKUP-10", "The configuration backup restores: loaded into a scratch configuration it equals the "
         "live one", "high", "seed 002: Restoring your configuration")
@pytest.mark.disruptive
@pytest.mark.hosts("omeroreadwrite")
def test_config_restore_drill(node: Node, host: testinfra.host.Host, request: pytest.FixtureRequest) -> None:
    """Restoring is `omero config load` of the backup. The drill loads it
    with the server's own CLI into a scratch configuration (`--source` an
    empty file in a folder of its own, always removed) and compares every
    property with the live configuration, passwords shown on both sides:
    a backup made with a plain `config get` holds them as ********, and so
    would the restored server. Values are compared, never printed."""
    cli, backup = expect(node, "omero_cli"), expect(node, "config_backup")
    scratch = host.run(f"mktemp -d {SCRATCH_PREFIX}XXXXXX").stdout.strip()
    assert scratch.startswith(SCRATCH_PREFIX), f"{node.name}: cannot make a scratch folder in /tmp"
    request.addfinalizer(lambda: host.run(f"rm -rf -- {shlex.quote(scratch)}"))
    problem, wrong = _restore_differences(host, cli, backup, f"{scratch}/config.xml")
    if problem:
        pytest.fail(f"{node.name}: {problem}", pytrace=False)
    assert not wrong, f"{node.name}: restoring {backup} would not give the live configuration: " + "; ".join(wrong)


def _restore_differences(host: testinfra.host.Host, cli: str, backup: str, config: str) -> tuple[str, list[str]]:
    """(a problem that stops the drill, the properties that differ), named by key only: the
    configurations' values (passwords among them) stay in this frame, never in a report."""
    loaded = host.run(f"touch {shlex.quote(config)} && {shlex.quote(cli)} config --source {shlex.quote(config)} "
                      f"load {shlex.quote(backup)} && {shlex.quote(cli)} config --source {shlex.quote(config)} "
                      "get --show-password")
    if loaded.rc != 0:
        cause = cut((loaded.stderr.strip().splitlines() or [f"exit status {loaded.rc}"])[-1], 160)
        return f"`omero config load {backup}` into a scratch configuration failed: {cause}", []
    live = host.run(f"{shlex.quote(cli)} config get --show-password")
    if live.rc != 0:
        return f"`{cli} config get` failed ({live.rc}); cannot compare", []
    restored, current = _properties(loaded.stdout), _properties(live.stdout)
    if not current:
        return f"`{cli} config get` printed no property; nothing to compare the backup with", []
    masked = {k for k in current if restored.get(k) == "********" != current[k]}  # `config get` hid them
    wrong = [f"{k} would be ******** (the backup was made without --show-password)" for k in sorted(masked)]
    wrong += [f"{k} missing from the backup" for k in sorted(set(current) - set(restored))]
    wrong += [f"{k} differs from the live value" for k in sorted(set(current) & set(restored) - masked)
              if restored[k] != current[k]]
    wrong += [f"{k} is in the backup but not set live" for k in sorted(set(restored) - set(current))]
    return "", wrong


@control("OMERO-BACKUP-11", "A hand-edited etc/grid/default.xml has an identical copy in the backup folder",
         "medium", "seed 002: Other backup sources", reads=(backup.default_xml_sums,))
@pytest.mark.hosts("omeroreadwrite")
def test_default_xml_backup(node: Node) -> None:
    """Settings made in default.xml (the log folder, say) are not in `omero
    config get`; without the copy, a restored server silently loses them.
    (An edit there is also undone when `omero admin start` regenerates the
    file from etc/templates/grid/default.xml.)"""
    if not expect(node, "grid_default_xml_edited"):
        pytest.skip(f"{node.name}: the inventory says etc/grid/default.xml is not edited "
                    "(grid_default_xml_edited: false)")
    live, copy = backup.default_xml_paths(node)
    found = ask(backup.default_xml_sums, node)
    assert live in found, f"{node.name}: {live} is missing"
    assert copy in found, f"{node.name}: no copy of {live} at {copy}"
    assert found[copy] == found[live], f"{node.name}: {copy} differs from the live {live}; back it up again"

