"""Seed 000, idr-omeroreadonly*/idr-omeroreadwrite (restart with systemctl, not
omero admin): every service of every IDR host runs as an enabled systemd
unit, every listening server lives in one, the OMERO services restart on
failure and systemd reports no failed unit."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control
from deploycheck.facts.listeners import listening_tcp, service_cgroups
from deploycheck.facts.systemd import system_state, unit_names, unit_properties
from deploycheck.inventory.variables import expect

if TYPE_CHECKING:
    from deploycheck.inventory.loader import Node

pytestmark = pytest.mark.hosts("proxy", "omeroreadonly", "omeroreadwrite", "database")
READS = ("expected_units", "restart_units")

ENABLED = ("enabled", "enabled-runtime", "static", "alias")  # enabled-runtime: generated, e.g. postgresql@
DOCKER_DNS = "127.0.0.11"  # the engine's resolver: a socket in the namespace, its process outside
REF = "seed 000: idr-omeroreadonly*/idr-omeroreadwrite (restart with systemctl, not omero admin)"


def _units(node: Node) -> dict[str, dict[str, str]]:
    """State of every unit the inventory names for the host, in one command."""
    units = sorted(set(unit_names(expect(node, "expected_units") + expect(node, "restart_units"))))
    return unit_properties(node, units, ("ActiveState", "UnitFileState", "LoadState", "Restart"))


@control("IDR-SYS-01", "Every expected service is enabled and running as a systemd unit", "high", REF, shell=True)
def test_expected_units_enabled_and_active(node: Node) -> None:
    """Restarts go through systemctl, so each service must be a unit that is
    enabled (survives a reboot) and active now."""
    units = expect(node, "expected_units")
    if not units:
        pytest.skip(f"{node.name}: inventory lists no expected_units")
    states = _units(node)
    bad = []
    for unit in unit_names(units):
        f = states.get(unit, {})
        if f.get("LoadState") != "loaded":
            bad.append(f"{unit} not found")
        elif f.get("ActiveState") != "active" or f.get("UnitFileState") not in ENABLED:
            bad.append(f"{unit} is {f.get('ActiveState')}/{f.get('UnitFileState')}")
    assert not bad, f"{node.name}: expected active+enabled units; found " + "; ".join(bad)


@control("IDR-SYS-02", "Every listening server process lives in a systemd service unit", "high", REF, shell=True)
def test_listeners_belong_to_units(node: Node) -> None:
    """A server started by hand (``omero admin start``, a stray gunicorn) is
    outside its unit: systemctl can neither restart nor stop it."""
    sockets = [s for s in listening_tcp(node) if s.address != DOCKER_DNS]
    hidden = [f"{s.address}:{s.port}" for s in sockets if not s.processes]
    assert not hidden, f"{node.name}: cannot see the processes behind {hidden}; run the controls as root"
    cgroups = service_cgroups(node, [pid for sock in sockets for _, pid in sock.processes])
    strays = []
    for sock in sockets:
        for name, pid in sock.processes:
            path = cgroups.get(pid, "gone")
            if path != "gone" and not re.search(r"/[^/]+\.service$", path):
                strays.append(f"{name} (pid {pid}) on {sock.address}:{sock.port} in cgroup {path}")
    assert not strays, f"{node.name}: listening outside any service unit: " + "; ".join(sorted(set(strays)))


@control("IDR-SYS-03", "OMERO services restart on failure", "medium", REF, shell=True)
@pytest.mark.hosts("omeroreadonly", "omeroreadwrite")
def test_restart_policy(node: Node) -> None:
    """An OMERO server that crashes at night stays down until someone
    notices, unless systemd restarts it."""
    units = expect(node, "restart_units")
    if not units:
        pytest.skip(f"{node.name}: inventory lists no restart_units")
    props = _units(node)
    bad = [f"{u} Restart={props.get(u, {}).get('Restart', '?')}" for u in unit_names(units)
           if props.get(u, {}).get("Restart") not in ("on-failure", "always", "on-abnormal", "on-abort")]
    assert not bad, f"{node.name}: expected Restart=on-failure or always; found " + ", ".join(bad)


@control("IDR-SYS-04", "systemd reports the host running with no failed unit", "medium", REF, shell=True)
def test_no_failed_units(node: Node) -> None:
    """A failed unit is a service that is down or a job that did not run,
    whether or not anyone listed it."""
    state, names = system_state(node)
    assert state == "running" and not names, f"{node.name}: system is {state}; failed units: {names or 'none'}"
