"""Seed 004, Jobs stay in QUEUED, workers seem to be stuck: the monitor page
answers, at least one scheduler worker is alive (its heartbeat is recent,
not a row a stopped worker left behind), and no task has waited in QUEUED
for longer than the deployment allows."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control
from deploycheck.facts import scheduler
from deploycheck.inventory.variables import expect

if TYPE_CHECKING:
    from deploycheck.inventory.loader import Node
    from deploycheck.transport.http import Client

pytestmark = pytest.mark.hosts("vidjil")
READS = ("worker_heartbeat_max_s", "queued_max_age_s")

@control("VIDJIL-MON-01", "A scheduler worker is alive and no task waits in QUEUED too long", "high",
         "seed 004: Jobs stay in QUEUED, workers seem to be stuck")
def test_monitor(node: Node, vidjil_https: Client) -> None:
    """Without a live worker, uploaded samples wait in QUEUED for ever. The
    monitor page counts the rows of scheduler_worker, and a stopped worker
    leaves its row behind: only a recent heartbeat shows a worker alive."""
    r = vidjil_https.get("/vidjil/admin/monitor").response
    assert r.status_code == 200, f"{node.name}: admin/monitor answered {r.status_code}"
    limit = int(expect(node, "worker_heartbeat_max_s"))
    rows = scheduler.workers(node)
    alive = [w.name for w in rows if w.alive(limit)]
    stale = [f"{w.name} ({w.heartbeat_age_s} s)" for w in rows if not w.alive(limit)]
    assert alive, (f"{node.name}: no worker has beaten in the last {limit} s"
                   + (f"; rows left by stopped workers: {', '.join(stale[:5])}" if stale else "; no worker row"))
    count, oldest = scheduler.queued(node)
    wait = int(expect(node, "queued_max_age_s"))
    assert oldest <= wait, f"{node.name}: {count} task(s) in QUEUED, the oldest for {oldest} s (> {wait} s)"
