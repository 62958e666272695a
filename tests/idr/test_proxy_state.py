"""State of idr-proxy after a deploy (seeds 000/001)."""

from __future__ import annotations

import pytest

from deploycheck.control import control
from deploycheck.facts import hostfacts
from deploycheck.inventory.variables import expect


@control("IDR-MAINT-01", "The maintenance flag is absent after a deploy", "high",
         "seed 000: Planned production maintenance")
@pytest.mark.hosts("proxy")
def test_maintenance_flag_absent(node, host) -> None:  # noqa: ANN001
    """While the flag exists every OMERO.web request gets the maintenance page."""
    flag = expect(node, "maintenance_flag")
    assert not hostfacts.path(node, flag).exists, f"{node.name}: {flag} exists; the site answers 503 maintenance pages"
