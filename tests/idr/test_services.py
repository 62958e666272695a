"""Services of every IDR host run as systemd units (seeds 000/001)."""

from __future__ import annotations

import pytest

from deploycheck.controls import control
from deploycheck.variables import expect


@control("IDR-SYS-01", "Every expected service is enabled and running as a systemd unit", "high",
         "seed 000: idr-omeroreadonly*/idr-omeroreadwrite (restart with systemctl)")
@pytest.mark.hosts("proxy", "omeroreadonly", "omeroreadwrite", "database")
def test_expected_units_enabled_and_active(node, host) -> None:  # noqa: ANN001
    """Restarts go through systemctl, so each service must be a unit that is
    enabled (survives a reboot) and active now."""
    units = expect(node, "expected_units")
    if not units:
        pytest.skip(f"{node.name}: inventory lists no expected_units")
    out = host.run("systemctl show --property=Id,ActiveState,UnitFileState -- " + " ".join(
        f"{u}.service" if "." not in u else u for u in units))
    states = {}
    for block in out.stdout.strip().split("\n\n"):
        fields = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        states[fields.get("Id", "?")] = (fields.get("ActiveState", "?"), fields.get("UnitFileState", "?"))
    bad = [f"{unit} is {active}/{enabled}" for unit, (active, enabled) in states.items()
           if active != "active" or enabled not in ("enabled", "static", "enabled-runtime", "alias")]
    missing = [u for u in units if not any(s.startswith(u) for s in states)]
    assert not bad and not missing, f"{node.name}: expected active+enabled units; found " + "; ".join(
        bad + [f"{u} not found" for u in missing])
