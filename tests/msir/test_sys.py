"""Seed 003, Using systemd: the microservice is installed as its unit in
/etc/systemd/system, runs under systemctl and is what serves its port."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control
from deploycheck.facts.listeners import listening_tcp, service_cgroups
from deploycheck.facts.systemd import unit_properties
from deploycheck.inventory.variables import expect

if TYPE_CHECKING:
    from deploycheck.inventory.loader import Node

pytestmark = pytest.mark.hosts("omeroreadonly")
READS = ("ms_unit", "ms_port")


@control("MSIR-SYS-01", "The microservice runs as its systemd unit from /etc/systemd/system and owns its port",
         "high", "seed 003: Using systemd", shell=True)
def test_ms_systemd_unit(node: Node) -> None:
    """The docs install omero-ms-image-region.service in /etc/systemd/system and
    start it with systemctl; the process on the microservice's port must be that
    unit's, or systemctl restarts something other than what serves renders."""
    unit = expect(node, "ms_unit")
    state = unit_properties(node, [unit], ("LoadState", "ActiveState", "FragmentPath")).get(unit, {})
    assert state.get("LoadState") == "loaded", f"{node.name}: unit {unit} is {state.get('LoadState') or 'unknown'}"
    assert state.get("FragmentPath", "").startswith("/etc/systemd/system/"), \
        f"{node.name}: {unit} is loaded from {state.get('FragmentPath') or 'nowhere'}, not /etc/systemd/system"
    assert state.get("ActiveState") == "active", f"{node.name}: {unit} is {state.get('ActiveState')}"
    port = int(expect(node, "ms_port"))
    pids = [pid for sock in listening_tcp(node) if sock.port == port for _, pid in sock.processes]
    assert pids, f"{node.name}: no process seen listening on port {port}"
    outside = {pid: cg for pid, cg in service_cgroups(node, pids).items() if not cg.endswith(f"/{unit}")}
    assert not outside, f"{node.name}: port {port} is served outside {unit}: " + \
        "; ".join(f"pid {pid} in {cg}" for pid, cg in sorted(outside.items()))
