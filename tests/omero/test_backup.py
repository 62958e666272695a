"""OMERO.server backup practice (seed 002)."""

from __future__ import annotations

import re
import shlex
import time

import pytest

from deploycheck.control import control
from deploycheck.facts import hostfacts
from deploycheck.inventory.variables import expect

REF_DB = "seed 002: Backing up your PostgreSQL database"


def _now(node) -> int:  # noqa: ANN001
    """The host's clock (ages are judged by the host's own time)."""
    return int(hostfacts.output(node, "date +%s").strip() or time.time())


def _newest_dump(node) -> tuple[str, int, int]:  # noqa: ANN001
    """(path, mtime, mode) of the newest dump, or fail saying none exists."""
    folder = expect(node, "pg_dump_dir")
    out = hostfacts.output(node, f"ls -t {shlex.quote(folder)}/*.pg_dump 2>/dev/null | head -n 1 | "
                             "xargs -r stat -c '%n|%Y|%a'")
    if not out.strip():
        raise AssertionError(f"{node.name}: no *.pg_dump in {folder}; expected daily dumps")
    path, mtime, mode = out.strip().split("|")
    return path, int(mtime), int(mode, 8)


@control("OMERO-BACKUP-01", "A daily cron job dumps the database with pg_dump -Fc", "high", REF_DB)
@pytest.mark.hosts("database")
def test_daily_pg_dump_job(node, host) -> None:  # noqa: ANN001
    job = expect(node, "pg_dump_job")
    f = hostfacts.path(node, job)
    assert f.exists, f"{node.name}: {job} is missing; expected a daily pg_dump job"
    assert f.mode & 0o111, f"{node.name}: {job} is not executable (mode {oct(f.mode)}); run-parts skips it"
    text = hostfacts.output(node, f"cat {shlex.quote(job)}")
    assert "pg_dump" in text and "-Fc" in text, f"{node.name}: {job} does not run 'pg_dump -Fc'"


@control("OMERO-BACKUP-02", "The newest database dump is recent", "high", REF_DB)
@pytest.mark.hosts("database")
def test_newest_dump_recent(node) -> None:  # noqa: ANN001
    path, mtime, _ = _newest_dump(node)
    age_h = (_now(node) - mtime) / 3600
    limit = float(expect(node, "backup_max_age_h"))
    assert age_h <= limit, f"{node.name}: newest dump {path} is {age_h:.1f} h old; expected at most {limit:g} h"


@control("OMERO-BACKUP-03", "The newest database dump is a readable pg_dump archive", "high", REF_DB)
@pytest.mark.hosts("database")
def test_newest_dump_valid(node, host) -> None:  # noqa: ANN001
    path, _, _ = _newest_dump(node)
    result = host.run(f"pg_restore --list {shlex.quote(path)} | grep -c 'TABLE DATA'")
    tables = int(result.stdout.strip() or 0)
    assert tables > 0, f"{node.name}: pg_restore --list {path} lists no table data ({result.stderr.strip()[:120]})"


@control("OMERO-BACKUP-04", "Database dumps are not readable by other users", "high",
         "seed 002: Consider OMERO database dumps to be sensitive (session UUIDs)")
@pytest.mark.hosts("database")
def test_dumps_private(node, host) -> None:  # noqa: ANN001
    folder = expect(node, "pg_dump_dir")
    readable = host.run(f"find {shlex.quote(folder)} -maxdepth 1 -name '*.pg_dump' -perm -o+r -print").stdout.split()
    assert not readable, f"{node.name}: dumps readable by others: {readable[:3]}; they hold session UUIDs"


@control("OMERO-BACKUP-05", "The OMERO configuration backup exists, is recent and private", "medium",
         "seed 002: omero config get > /OMERO/backup/omero.config")
@pytest.mark.hosts("omeroreadwrite")
def test_config_backup(node, host) -> None:  # noqa: ANN001
    path = expect(node, "config_backup")
    f = hostfacts.path(node, path)
    assert f.exists and f.size > 0, f"{node.name}: {path} is missing or empty; expected `omero config get` output"
    assert not f.mode & 0o004, f"{node.name}: {path} is readable by others (mode {oct(f.mode)}); it holds passwords"
    props = int(hostfacts.output(node, f"grep -c '^omero\\.' {shlex.quote(path)}; true").strip() or 0)
    assert props, f"{node.name}: {path} holds no omero.* properties"
    age_h = (_now(node) - f.mtime) / 3600
    limit = float(expect(node, "backup_max_age_h"))
    assert age_h <= limit, f"{node.name}: {path} is {age_h:.1f} h old; expected at most {limit:g} h"


REF_BINARY = "seed 002: Backing up your binary data store"
JOB_PLACES = "/etc/cron.daily/* /etc/cron.d/* /etc/crontab /var/spool/cron/crontabs/* /var/spool/cron/*"


@control("OMERO-BACKUP-07", "A daily job backs up the whole binary repository", "high", REF_BINARY)
@pytest.mark.hosts("omeroreadwrite")
def test_binary_repository_backup_job(node, host) -> None:  # noqa: ANN001
    """The entire repository (which also holds the database and configuration
    backups) must be backed up frequently; the docs' example is a script in
    /etc/cron.daily. A job naming only a folder inside it (e.g. .../backup)
    does not count: the repository itself must be the thing backed up."""
    repo = expect(node, "omero_data_dir").rstrip("/")
    whole = shlex.quote(re.escape(repo) + r"/?([^/A-Za-z0-9_.-]|$)")
    named = host.run(f"grep -lE -- {whole} {JOB_PLACES} 2>/dev/null").stdout.split()
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
        assert runnable or len(found) > len(daily), \
            f"{node.name}: {', '.join(daily)} not executable; run-parts skips it"


@control("OMERO-BACKUP-08", "The binary repository backup is recent", "high", REF_BINARY)
@pytest.mark.hosts("omeroreadwrite")
def test_binary_repository_backup_recent(node) -> None:  # noqa: ANN001
    folder = expect(node, "binary_backup_dir")
    if not folder:
        pytest.skip(f"{node.name}: binary_backup_dir not set (the backup goes to another machine)")
    out = hostfacts.output(node, f"find {shlex.quote(folder)} -mindepth 1 -maxdepth 2 -printf '%T@\\n' 2>/dev/null | "
                             "sort -n | tail -n 1; true").strip()
    assert out, f"{node.name}: {folder} is missing or empty; expected the binary repository's backup"
    age_h = (_now(node) - float(out)) / 3600
    limit = float(expect(node, "backup_max_age_h"))
    assert age_h <= limit, f"{node.name}: newest file in {folder} is {age_h:.1f} h old; expected at most {limit:g} h"
