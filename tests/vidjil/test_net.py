"""Seed 004, Requirements (Network): fuse, MySQL and uwsgi talk to the other
services only inside the compose network; only nginx is published."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control
from deploycheck.inventory.variables import expect
from deploycheck.transport import compose

if TYPE_CHECKING:
    from deploycheck.inventory.loader import Node

pytestmark = pytest.mark.hosts("vidjil")
READS = ("private_services", "compose_project")


@control("VIDJIL-NET-01", "fuse, MySQL and uwsgi are not published outside the compose network", "critical",
         "seed 004: Requirements (Network)")
def test_private_services_unpublished(node: Node) -> None:
    """Published, they open a way to the samples and results that bypasses
    the site, its HTTPS and its login."""
    found = compose.services(node)
    private = expect(node, "private_services")
    present = sorted(set(private) & set(found))
    if not present:  # services a deployment lacks are passed over, but not all of them
        pytest.fail(f"{node.name}: none of {sorted(private)} runs in project {expect(node, 'compose_project')}; "
                    "nothing to judge", pytrace=False)
    exposed = []
    for name, ports in private.items():
        container = found.get(name)
        if container is None:
            continue
        bindings = container.attrs["HostConfig"].get("PortBindings") or {}
        for port in ports:
            for proto in ("tcp", "udp"):
                if bindings.get(f"{port}/{proto}"):
                    exposed.append(f"{name} {port}/{proto} -> {bindings[f'{port}/{proto}']}")
        if container.attrs["HostConfig"].get("NetworkMode") == "host":
            exposed.append(f"{name} uses the host network")
    assert not exposed, f"{node.name}: published outside the compose network: {'; '.join(exposed)}"
