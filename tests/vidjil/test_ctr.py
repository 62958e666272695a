"""Seed 004, Docker -- Installation (Docker environment) and Troubleshooting
(Can't connect to MySQL server): every expected Vidjil service has a running
container that restarts after a failure or reboot, and services with a
healthcheck report healthy."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control
from deploycheck.inventory.variables import expect
from deploycheck.transport import compose

if TYPE_CHECKING:
    from deploycheck.inventory.loader import Node

pytestmark = pytest.mark.hosts("vidjil")
READS = ("expected_services",)

REF = "seed 004: Docker -- Installation (Docker environment)"


@control("VIDJIL-CTR-01", "Every expected Vidjil service has a running container", "critical", REF)
def test_services_running(node: Node) -> None:
    """Each service is one part of the chain from upload to result; one
    missing stops the whole site or its analyses."""
    found = compose.services(node)
    wanted = expect(node, "expected_services")
    bad = [f"{s}: {found[s].status if s in found else 'missing'}" for s in wanted
           if s not in found or found[s].status != "running"]
    assert not bad, f"{node.name}: expected running services; found " + ", ".join(bad)


@control("VIDJIL-CTR-02", "Every Vidjil service restarts after a failure or reboot", "high", REF)
def test_restart_policy(node: Node) -> None:
    """Without a restart policy a crash or a host reboot leaves the service
    down until someone starts it by hand. Only "always" and
    "unless-stopped" bring a service back after a reboot: "on-failure"
    restarts a crashed container but not one the engine stopped."""
    found = compose.services(node)
    bad = [f"{s}: {c.attrs['HostConfig'].get('RestartPolicy', {}).get('Name') or 'no'}" for s, c in found.items()
           if s in expect(node, "expected_services")
           and (c.attrs["HostConfig"].get("RestartPolicy", {}).get("Name") or "no") not in ("always", "unless-stopped")]
    assert not bad, f"{node.name}: services that do not come back after a failure and a reboot: {', '.join(bad)}"


@control("VIDJIL-CTR-03", "Services with a healthcheck report healthy", "high",
         "seed 004: Docker -- Troubleshooting (Can't connect to MySQL server)")
def test_healthchecks(node: Node) -> None:
    """A running but unhealthy MySQL is the docs' first cause of a site that
    cannot connect to its database."""
    found = compose.services(node)
    checked = {s: c.attrs["State"].get("Health", {}).get("Status") for s, c in found.items()
               if c.attrs["State"].get("Health")}
    if not checked:
        pytest.fail(f"{node.name}: no service has a healthcheck (mysql should)", pytrace=False)
    bad = [f"{s}: {status}" for s, status in checked.items() if status != "healthy"]
    assert not bad, f"{node.name}: unhealthy: {', '.join(bad)}"
