"""Seed 004, Jobs stay in QUEUED, workers seem to be stuck: the monitor page
answers, at least one scheduler worker is alive (its heartbeat is recent,
not a row a stopped worker left behind), and no task has waited in QUEUED
for longer than the deployment allows."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control
from deploycheck.inventory.variables import expect
from deploycheck.transport import compose

if TYPE_CHECKING:
    from deploycheck.inventory.loader import Host
    from deploycheck.transport.http import Client

pytestmark = pytest.mark.hosts("vidjil")
READS = ("worker_heartbeat_max_s", "queued_max_age_s")

# As root with the MySQL service's own password, passed in the environment (never on a command line).
SQL = 'MYSQL_PWD="$MYSQL_ROOT_PASSWORD" mysql -uroot -N -B vidjil -e '
WORKERS = ("SELECT worker_name, status, TIMESTAMPDIFF(SECOND, last_heartbeat, NOW()) FROM scheduler_worker")
QUEUED = ("SELECT COUNT(*), COALESCE(MAX(TIMESTAMPDIFF(SECOND, COALESCE(start_time, next_run_time), NOW())), 0) "
          "FROM scheduler_task WHERE status = 'QUEUED'")


def _query(node: Host, sql: str) -> list[list[str]]:
    code, out = compose.run(node, "mysql", SQL + f'"{sql}" 2>&1')
    assert code == 0, f"{node.name}: cannot read the scheduler tables: {out.strip()[:120]!r}"
    return [line.split("\t") for line in out.splitlines() if line.strip()]


@control("VIDJIL-MON-01", "A scheduler worker is alive and no task waits in QUEUED too long", "high",
         "seed 004: Jobs stay in QUEUED, workers seem to be stuck")
def test_monitor(node: Host, vidjil_https: Client) -> None:
    """Without a live worker, uploaded samples wait in QUEUED for ever. The
    monitor page counts the rows of scheduler_worker, and a stopped worker
    leaves its row behind: only a recent heartbeat shows a worker alive."""
    r = vidjil_https.get("/vidjil/admin/monitor").response
    assert r.status_code == 200, f"{node.name}: admin/monitor answered {r.status_code}"
    limit = int(expect(node, "worker_heartbeat_max_s"))
    rows = _query(node, WORKERS)
    alive = [name for name, status, age in rows if status == "ACTIVE" and age != "NULL" and int(age) <= limit]
    stale = [f"{name} ({age} s)" for name, status, age in rows if name not in alive]
    assert alive, (f"{node.name}: no worker has beaten in the last {limit} s"
                   + (f"; rows left by stopped workers: {', '.join(stale[:5])}" if stale else "; no worker row"))
    count, oldest = _query(node, QUEUED)[0]
    wait = int(expect(node, "queued_max_age_s"))
    assert int(oldest) <= wait, f"{node.name}: {count} task(s) in QUEUED, the oldest for {oldest} s (> {wait} s)"
