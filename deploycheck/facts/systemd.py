"""systemd units of a host as ``systemctl show`` reports them."""

from __future__ import annotations

import shlex
from collections.abc import Iterable

from deploycheck.facts import hostfacts
from deploycheck.inventory.loader import Host


def unit_properties(node: Host, units: Iterable[str], properties: Iterable[str]) -> dict[str, dict[str, str]]:
    """Properties of several units, asked in one ``systemctl show`` command
    (answered from memory when asked again), by unit id. A unit systemd
    does not know still answers, with ``LoadState=not-found``.

    >>> unit_properties(node, ["nginx.service", "nope.service"], ["LoadState", "Restart"])
    {'nginx.service': {'Id': 'nginx.service', 'LoadState': 'loaded', 'Restart': 'on-failure'},
     'nope.service': {'Id': 'nope.service', 'LoadState': 'not-found', 'Restart': 'no'}}
    """
    wanted = ",".join(["Id", *properties])
    out = hostfacts.output(node, f"systemctl show --property={wanted} -- " + " ".join(shlex.quote(u) for u in units))
    found: dict[str, dict[str, str]] = {}
    for block in out.strip().split("\n\n"):
        fields = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        found[fields.get("Id", "?")] = fields
    return found
