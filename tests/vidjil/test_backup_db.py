"""Vidjil's database and backups (seed 004: Making backups; Docker environment)."""

from __future__ import annotations

import shlex

import pytest

from deploycheck.control import control
from deploycheck.inventory.variables import expect
from deploycheck.transport import compose

BACKUP_REF = "seed 004: Making backups"


@control("VIDJIL-BKP-01", "An active cron line runs the backup", "high", BACKUP_REF)
@pytest.mark.hosts("vidjil")
def test_backup_cron_active(node) -> None:  # noqa: ANN001
    """The shipped cron file has every backup line commented out."""
    code, out = compose.run(node, "backup", "cat /etc/cron.d/* /var/spool/cron/crontabs/* 2>/dev/null; true")
    active = [line for line in out.splitlines() if "backup" in line and line.strip()
              and not line.lstrip().startswith("#") and len(line.split()) > 5]
    assert active, f"{node.name}: no active backup line in the backup service's crontabs; no backup runs"


@control("VIDJIL-BKP-02", "A recent backup is present", "high", BACKUP_REF)
@pytest.mark.hosts("vidjil")
def test_recent_backup(node) -> None:  # noqa: ANN001
    folder = expect(node, "backup_dir")
    minutes = int(float(expect(node, "backup_max_age_h")) * 60)
    code, out = compose.run(node, "backup", f"find {shlex.quote(folder)} -maxdepth 1 -name 'backup_*' "
                                            f"-mmin -{minutes} -size +0 | head -n 3")
    assert out.strip(), f"{node.name}: no backup younger than {minutes // 60} h in {folder}"


@control("VIDJIL-BKP-03", "The backup database user is read-only", "high",
         "seed 004: Making backups (a read-only backup user)")
@pytest.mark.hosts("vidjil")
def test_backup_user_read_only(node) -> None:  # noqa: ANN001
    """Connects with the backup service's own credentials and tries a write."""
    code, out = compose.run(node, "backup", "mysql -N -e 'SELECT CURRENT_USER(); "
                                            "CREATE TABLE vidjil.deploycheck_probe (id INT); "
                                            "DROP TABLE vidjil.deploycheck_probe' 2>&1")
    assert "backup@" in out or "denied" in out, f"{node.name}: cannot connect as the backup user: {out[:120]!r}"
    assert code != 0 and "denied" in out.lower(), f"{node.name}: the backup user could create a table"


@control("VIDJIL-DB-01", "The MySQL root and vidjil passwords are not the shipped ones", "critical",
         "seed 004: First configuration and first launch (change the mysql root and vidjil passwords)")
@pytest.mark.hosts("vidjil")
def test_db_passwords_changed(node) -> None:  # noqa: ANN001
    accepted = []
    for user, password in expect(node, "shipped_db_passwords").items():
        code, out = compose.run(node, "mysql", f"mysql --protocol=TCP -h 127.0.0.1 -u {shlex.quote(user)} "
                                               f"-p{shlex.quote(password)} -N -e 'SELECT 1' 2>&1")
        if code == 0:
            accepted.append(user)
        elif "denied" not in out.lower():
            raise AssertionError(f"{node.name}: cannot judge {user}'s password: {out.strip()[:120]!r}")
    assert not accepted, f"{node.name}: MySQL accepts the shipped password for {accepted}"
