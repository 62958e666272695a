"""Seed 004, Requirements (CPU, RAM), Autodelete and Permissions, and First
configuration and first launch (germline files): the scheduler leaves a core
to the web server, the app does not delete data on its own, and the
germline files the analyses need are served."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control
from deploycheck.facts import scheduler
from deploycheck.inventory.variables import expect
from deploycheck.transport import compose

if TYPE_CHECKING:
    from deploycheck.inventory.loader import Node
    from deploycheck.transport.http import Client

pytestmark = pytest.mark.hosts("vidjil")
READS = ("vidjil_app_model", "germline_paths", "worker_heartbeat_max_s")


@control("VIDJIL-CFG-01", "Fewer scheduler workers than CPUs, keeping a core for the web server", "medium",
         "seed 004: Requirements (CPU, RAM)")
def test_workers_fewer_than_cpus(node: Node, vidjil_https: Client) -> None:
    """With a worker on every core, analyses starve the web server and the
    site stops answering while they run. Counts the live workers (recent
    heartbeat): rows of stopped workers do not run analyses."""
    cpus = int(compose.client(node).info().get("NCPU", 0))
    alive = [w for w in scheduler.workers(node) if w.alive(int(expect(node, "worker_heartbeat_max_s")))]
    assert alive, f"{node.name}: no live scheduler worker to count (see VIDJIL-MON-01)"
    assert len(alive) < cpus, f"{node.name}: {len(alive)} workers on {cpus} CPUs; expected fewer workers than CPUs"


@control("VIDJIL-CFG-02", "AUTODELETE is off in the Vidjil app model", "high",
         "seed 004: Autodelete and Permissions")
def test_autodelete_off(node: Node) -> None:
    """With AutoDelete on, deleting a record also deletes the uploaded files
    it references, for good."""
    path = expect(node, "vidjil_app_model")
    code, out = compose.run(node, "uwsgi", f"grep -E '^[[:space:]]*AUTODELETE[[:space:]]*=' -- {shlex.quote(path)}")
    assert code == 0, f"{node.name}: no AUTODELETE setting in {path}"
    value = out.strip().splitlines()[-1].split("=", 1)[1].strip()
    assert value == "False", f"{node.name}: AUTODELETE = {value} in {path}; expected False"


@control("VIDJIL-CFG-03", "Germline files are served", "medium",
         "seed 004: First configuration and first launch (germline files)")
def test_germlines(node: Node, vidjil_https: Client) -> None:
    """Analyses and the browser read the germline files; without them no
    sample can be analysed or shown."""
    missing = []
    for path in expect(node, "germline_paths"):
        r = vidjil_https.get(path).response
        if r.status_code != 200 or not r.content.strip():
            missing.append(f"{path} -> {r.status_code}")
    assert not missing, f"{node.name}: germline files missing: {', '.join(missing)}"
