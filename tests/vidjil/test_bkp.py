"""Seed 004, Making backups (a read-only backup user): the backup service
runs its backup from an active cron line, a recent backup is present, and
it connects to the database as a user that cannot write."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control
from deploycheck.inventory.variables import expect
from deploycheck.transport import compose

if TYPE_CHECKING:
    from deploycheck.inventory.loader import Host

pytestmark = pytest.mark.hosts("vidjil")
READS = ("backup_dir", "backup_max_age_h")

REF = "seed 004: Making backups"


@control("VIDJIL-BKP-01", "An active cron line runs the backup", "high", REF)
def test_backup_cron_active(node: Host) -> None:
    """The shipped cron file has every backup line commented out."""
    _, out = compose.run(node, "backup", "cat /etc/cron.d/* /var/spool/cron/crontabs/* 2>/dev/null; true")
    active = [line for line in out.splitlines() if "backup" in line and line.strip()
              and not line.lstrip().startswith("#") and len(line.split()) > 5]
    assert active, f"{node.name}: no active backup line in the backup service's crontabs; no backup runs"


@control("VIDJIL-BKP-02", "A recent backup is present", "high", REF)
def test_recent_backup(node: Host) -> None:
    """A cron line that fails every night still looks active; only a recent
    file proves the backup runs."""
    folder = expect(node, "backup_dir")
    minutes = int(float(expect(node, "backup_max_age_h")) * 60)
    _, out = compose.run(node, "backup", f"find {shlex.quote(folder)} -maxdepth 1 -name 'backup_*' "
                                         f"-mmin -{minutes} -size +0 | head -n 3")
    assert out.strip(), f"{node.name}: no backup younger than {minutes // 60} h in {folder}"


@control("VIDJIL-BKP-03", "The backup database user is read-only", "high",
         "seed 004: Making backups (a read-only backup user)")
def test_backup_user_read_only(node: Host) -> None:
    """The backup's credentials sit in a container on disk; they must not
    be able to change patient data. Connects with the backup service's own
    credentials and tries a write."""
    code, out = compose.run(node, "backup", "mysql -N -e 'SELECT CURRENT_USER(); "
                                            "CREATE TABLE vidjil.deploycheck_probe (id INT); "
                                            "DROP TABLE vidjil.deploycheck_probe' 2>&1")
    assert "backup@" in out or "denied" in out, f"{node.name}: cannot connect as the backup user: {out[:120]!r}"
    assert code != 0 and "denied" in out.lower(), f"{node.name}: the backup user could create a table"
