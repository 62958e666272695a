"""Seed 004, Making backups (a read-only backup user): the backup service
runs its backup from a cron line cron really runs, the newest backup is
recent and holds a database dump with data and the results, and it
connects to the database as a user that can read and cannot write."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control
from deploycheck.inventory.loader import cut
from deploycheck.inventory.variables import expect
from deploycheck.transport import compose

if TYPE_CHECKING:
    from deploycheck.inventory.loader import Node

pytestmark = pytest.mark.hosts("vidjil")
READS = ("backup_dir", "backup_max_age_h")

REF = "seed 004: Making backups"


# The lines cron would run from /etc/cron.d (files cron reads: named as run-parts names them, owned by root,
# not writable by group or others; the target of a symlink likewise) and the users' crontabs.
CRON_LINES = r"""
for f in /etc/cron.d/* /etc/crontab; do
  [ -f "$f" ] || continue
  name=$(basename "$f")
  case "$name" in *[!A-Za-z0-9_-]*) echo "IGNORED $f: cron skips file names with other characters"; continue;; esac
  [ "$f" = /etc/crontab ] || { owner=$(stat -L -c %u "$f"); mode=$(stat -L -c %a "$f");
    [ "$owner" = 0 ] || { echo "IGNORED $f: owned by uid $owner, not root"; continue; };
    case "$mode" in *[2367]?|*[2367]) echo "IGNORED $f: mode $mode (writable by group or others)"; continue;; esac; }
  grep -v '^[[:space:]]*#' "$f" | grep -v '^[[:space:]]*$' | grep -v '^[A-Za-z_]*=' | sed "s|^|SYSTEM $f: |"
done
for f in /var/spool/cron/crontabs/*; do
  [ -f "$f" ] || continue
  grep -v '^[[:space:]]*#' "$f" | grep -v '^[[:space:]]*$' | grep -v '^[A-Za-z_]*=' | sed "s|^|USER $f: |"
done
true
"""


def _backup_lines(node: Node) -> tuple[list[str], list[str]]:
    """(cron lines that run the backup, why other backup lines do not run)."""
    _, out = compose.run(node, "backup", CRON_LINES)
    runs, problems = [], []
    for line in out.splitlines():
        kind, _, rest = line.partition(" ")
        source, _, entry = rest.partition(": ")
        if kind == "IGNORED":
            problems.append(f"{source}: {entry}")
            continue
        fields = entry.split()
        if "backup" not in entry or len(fields) < 6:
            continue
        special = fields[0].startswith("@")
        user_field = (fields[1] if special else fields[5]) if kind == "SYSTEM" else None
        if user_field is not None:
            code, _ = compose.run(node, "backup", f"getent passwd {shlex.quote(user_field)} >/dev/null")
            if code != 0:
                problems.append(f"{source}: '{cut(entry, 80)}' has no user field ('{user_field}' is no user)")
                continue
        runs.append(f"{source}: {cut(entry, 80)}")
    return runs, problems


@control("VIDJIL-BKP-01", "An active cron line runs the backup", "high", REF)
def test_backup_cron_active(node: Node) -> None:
    """The shipped cron file has every backup line commented out; a line in
    /etc/cron.d without its user field, or in a file cron refuses (owner,
    mode, name), looks active and never runs."""
    runs, problems = _backup_lines(node)
    assert runs, f"{node.name}: no cron line runs the backup" + (f" ({'; '.join(problems)})" if problems else "")


# The newest archive, its members, then the dump's INSERT lines and mysqldump's closing line (bounded read).
SQL_STATS = "head -c 100000000 | awk '/^INSERT INTO/ {i++} /^-- Dump completed/ {d++} END {print \"SQL\", i+0, d+0}'"
NEWEST = ("f=$(ls -t {folder}/backup_* 2>/dev/null | head -n 1); [ -n \"$f\" ] || exit 3; echo \"$f\"; "
          "case \"$f\" in *.zip) unzip -Z1 \"$f\"; unzip -p \"$f\" '*.sql' | " + SQL_STATS + " ;; "
          "*) tar tzf \"$f\"; tar xzOf \"$f\" --wildcards '*.sql' | " + SQL_STATS + " ;; esac")


@control("VIDJIL-BKP-02", "A recent backup holds a database dump and the results", "high", REF)
def test_recent_backup(node: Node) -> None:
    """A cron line that fails every night still looks active, and Vidjil's
    backup script zips an empty dump when mysqldump fails: only a recent
    archive whose dump holds the data, beside the results, is a backup."""
    folder = expect(node, "backup_dir")
    minutes = int(float(expect(node, "backup_max_age_h")) * 60)
    code, out = compose.run(node, "backup", NEWEST.replace("{folder}", shlex.quote(folder)))
    assert code != 3 and out.strip(), f"{node.name}: no backup archive in {folder}"
    lines = out.splitlines()
    archive = lines[0]
    code, _ = compose.run(node, "backup", f"test -n \"$(find {shlex.quote(archive)} -mmin -{minutes})\"")
    assert code == 0, f"{node.name}: the newest backup {archive} is older than {minutes // 60} h"
    stats = lines[-1].split()
    members = lines[1:-1] if stats[:1] == ["SQL"] else lines[1:]
    inserts, completed = (int(stats[1]), int(stats[2])) if stats[:1] == ["SQL"] and len(stats) == 3 else (0, 0)
    problems = []
    if not any(m.endswith(".sql") for m in members):
        problems.append("no database dump in it")
    elif not completed:
        problems.append("its database dump is not a complete mysqldump (did mysqldump fail?)")
    elif not inserts:
        problems.append("its database dump holds no data")
    if not any(m.startswith("results/") or "/results/" in m for m in members):
        problems.append("no results folder in it")
    assert not problems, f"{node.name}: {archive}: {'; '.join(problems)}"


@control("VIDJIL-BKP-03", "The backup database user can read and cannot write", "high",
         "seed 004: Making backups (a read-only backup user)")
def test_backup_user_read_only(node: Node) -> None:
    """The backup's credentials sit in a container on disk; they must not
    be able to change patient data, and they must be able to read it, or
    every backup is empty. Connects with the backup service's own
    credentials: a login that fails is a failure, not a proof of read-only."""
    code, out = compose.run(node, "backup", "mysql -N -e 'SELECT CURRENT_USER(); SELECT COUNT(*) FROM "
                                            "vidjil.auth_user' 2>&1")
    assert code == 0, f"{node.name}: the backup user cannot read the database: {cut(out.strip(), 120)!r}"
    code, out = compose.run(node, "backup", "mysql -N -e 'CREATE TABLE vidjil.deploycheck_probe (id INT); "
                                            "DROP TABLE vidjil.deploycheck_probe' 2>&1")
    assert code != 0 and "denied" in out.lower(), f"{node.name}: the backup user could create a table"
