"""Vidjil's web2py scheduler, read from its tables: the workers with the age
of their last heartbeat, and the tasks waiting in QUEUED. The monitor page
only counts rows, and a stopped worker leaves its row behind (web2py
removes it only from a live worker), so only the heartbeat tells."""

from __future__ import annotations

from dataclasses import dataclass

from deploycheck.inventory.loader import Node
from deploycheck.transport import compose

# As root with the MySQL service's own password, passed in the environment (never on a command line).
SQL = 'MYSQL_PWD="$MYSQL_ROOT_PASSWORD" mysql -uroot -N -B vidjil -e '
WORKERS = "SELECT worker_name, status, TIMESTAMPDIFF(SECOND, last_heartbeat, NOW()) FROM scheduler_worker"
QUEUED = ("SELECT COUNT(*), COALESCE(MAX(TIMESTAMPDIFF(SECOND, COALESCE(start_time, next_run_time), NOW())), 0) "
          "FROM scheduler_task WHERE status = 'QUEUED'")


@dataclass(frozen=True)
class Worker:
    name: str
    status: str
    heartbeat_age_s: int | None

    def alive(self, limit_s: int) -> bool:
        return self.status == "ACTIVE" and self.heartbeat_age_s is not None and self.heartbeat_age_s <= limit_s


def _query(node: Node, sql: str) -> list[list[str]]:
    code, out = compose.run(node, "mysql", SQL + f'"{sql}" 2>&1')
    if code != 0:
        raise AssertionError(f"{node.name}: cannot read the scheduler tables: {out.strip()[:120]!r}")
    return [line.split("\t") for line in out.splitlines() if line.strip()]


def workers(node: Node) -> list[Worker]:
    return [Worker(name, status, None if age == "NULL" else int(age)) for name, status, age in _query(node, WORKERS)]


def queued(node: Node) -> tuple[int, int]:
    """(tasks in QUEUED, seconds the oldest has waited)."""
    count, oldest = _query(node, QUEUED)[0]
    return int(count), int(oldest)
