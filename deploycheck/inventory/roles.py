"""The host groups the profiles use, found by the deployment's own group names.

A profile's controls run on roles (the public proxy, the read-only OMERO
servers, ...). Each role is found in the inventory by the names deployments
give it: deploycheck's own (``proxy``) and IDR's (``proxy-hosts``). Any other
naming maps with one setting, ``--group proxy=web-front`` or the inventory
variable ``deploycheck_groups: {proxy: web-front}``. Groups no role uses are
the deployment's business, not an error."""

from __future__ import annotations

from collections.abc import Iterable

from deploycheck.inventory.loader import Inventory, InventoryError

ROLES: dict[str, tuple[str, ...]] = {
    "proxy": ("proxy", "proxy-hosts"),
    "omeroreadonly": ("omeroreadonly", "omeroreadonly-hosts"),
    "omeroreadwrite": ("omeroreadwrite", "omeroreadwrite-hosts"),
    "database": ("database", "database-hosts"),
    "outside": ("outside", "outside-hosts"),
    "vidjil": ("vidjil", "vidjil-hosts"),
}
MAPPING_VAR = "deploycheck_groups"


def parse_overrides(items: Iterable[str]) -> dict[str, str]:
    """``["proxy=web-front"]`` -> ``{"proxy": "web-front"}``; a typo is a usage error."""
    found: dict[str, str] = {}
    for item in items:
        role, sep, group = item.partition("=")
        if not sep or not role or not group:
            raise InventoryError(f"--group {item!r}: expected ROLE=GROUP, e.g. proxy=web-front")
        found[_known(role, f"--group {item!r}")] = group
    return found


def _known(role: str, where: str) -> str:
    if role not in ROLES:
        raise InventoryError(f"{where}: unknown role {role!r} (roles: {', '.join(ROLES)})")
    return role


def _from_inventory(inv: Inventory) -> dict[str, str]:
    """``deploycheck_groups`` as the hosts see it; hosts that disagree are a usage error."""
    seen: dict[str, str] = {}
    for host in inv.hosts.values():
        value = host.vars.get(MAPPING_VAR)
        if value is None:
            continue
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise InventoryError(f"{host.name}: {MAPPING_VAR} must map roles to group names, e.g. {{proxy: web-front}}")
        for role, group in value.items():
            role = _known(str(role), f"{MAPPING_VAR} of {host.name}")
            if seen.setdefault(role, group) != group:
                raise InventoryError(f"{MAPPING_VAR}: hosts disagree on the group of {role} ({seen[role]}, {group})")
    return seen


def assign(inv: Inventory, overrides: dict[str, str]) -> None:
    """Fill ``inv.roles``: the command line wins, then the inventory's
    mapping, then the first of the role's usual names the inventory has."""
    chosen = {**_from_inventory(inv), **overrides}
    for role, group in chosen.items():
        if group not in inv.groups:
            raise InventoryError(f"role {role} is mapped to group {group!r}, which the inventory does not have")
    for role, names in ROLES.items():
        if role not in chosen:
            present = [n for n in names if inv.groups.get(n)]
            if present:
                chosen[role] = present[0]
    inv.roles = chosen
