"""systemd units of a host as ``systemctl show`` reports them."""

from __future__ import annotations

import shlex
from collections.abc import Iterable

from deploycheck.facts import hostfacts
from deploycheck.inventory.loader import Node, RenderError
from deploycheck.inventory.variables import expect

# the properties controls read; asked together so one command answers them all
PROPERTIES = ("ActiveState", "UnitFileState", "LoadState", "Restart", "FragmentPath")
STATE_COMMAND = ("systemctl is-system-running; echo '--failed--'; "
                 "systemctl list-units --state=failed --no-legend --plain")


def unit_names(units: Iterable[str]) -> list[str]:
    """Unit ids as systemctl shows them: a bare name is a service."""
    return [u if "." in u else f"{u}.service" for u in units]


def inventory_units(node: Node) -> list[str]:
    """Every unit the inventory names for the host (expected, restarting, the microservice's)."""
    names: list[str] = []
    for variable in ("expected_units", "restart_units", "ms_unit"):
        try:
            value = expect(node, variable)
        except RenderError:
            continue
        names += value if isinstance(value, list) else [value] if value else []
    return sorted(set(unit_names(str(n) for n in names)))


def properties_command(units: Iterable[str], properties: Iterable[str]) -> str:
    wanted = ",".join(["Id", *properties])
    return f"systemctl show --property={wanted} -- " + " ".join(shlex.quote(u) for u in units)


def system_state(node: Node) -> tuple[str, list[str]]:
    """systemd's overall state (``running``, ``degraded``...) and the failed units' names."""
    rc, out, _ = hostfacts.command(node, STATE_COMMAND)
    state, _, failed = out.partition("--failed--")
    return state.strip(), [line.split()[0] for line in failed.splitlines() if line.strip()]


def unit_properties(node: Node, units: Iterable[str], properties: Iterable[str]) -> dict[str, dict[str, str]]:
    """Properties of several units, asked in one ``systemctl show`` command
    (answered from memory when asked again), by unit id. A unit systemd
    does not know still answers, with ``LoadState=not-found``.

    >>> unit_properties(node, ["nginx.service", "nope.service"], ["LoadState", "Restart"])
    {'nginx.service': {'Id': 'nginx.service', 'LoadState': 'loaded', 'Restart': 'on-failure'},
     'nope.service': {'Id': 'nope.service', 'LoadState': 'not-found', 'Restart': 'no'}}
    """
    units, properties = list(units), list(properties)
    every = inventory_units(node)
    if set(units) <= set(every) and set(properties) <= set(PROPERTIES):  # the command asked ahead answers it
        out = hostfacts.output(node, properties_command(every, PROPERTIES))
    else:
        out = hostfacts.output(node, properties_command(units, properties))
    found: dict[str, dict[str, str]] = {}
    for block in out.strip().split("\n\n"):
        fields = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        found[fields.get("Id", "?")] = fields
    return found
