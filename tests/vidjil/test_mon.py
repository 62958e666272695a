"""Seed 004, Jobs stay in QUEUED, workers seem to be stuck: the monitor page
answers and shows at least one worker to run the analyses."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control

if TYPE_CHECKING:
    from deploycheck.inventory.loader import Host
    from deploycheck.transport.http import Client

pytestmark = pytest.mark.hosts("vidjil")
READS = ()


@control("VIDJIL-MON-01", "The monitor answers and shows at least one worker", "high",
         "seed 004: Jobs stay in QUEUED, workers seem to be stuck")
def test_monitor(node: Host, vidjil_https: Client) -> None:
    """Without a worker, uploaded samples wait in QUEUED for ever and nobody
    is told why."""
    r = vidjil_https.get("/vidjil/admin/monitor").response
    assert r.status_code == 200, f"{node.name}: admin/monitor answered {r.status_code}"
    fields = dict(line.split("=", 1) for line in r.text.splitlines() if "=" in line)
    workers = int(fields.get("ALL", "0") or 0)
    assert workers >= 1, f"{node.name}: monitor shows {workers} workers ({r.text.strip()[:80]!r}); tasks would wait"
