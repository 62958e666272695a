"""The controller's reading of the inventory, handed to pytest-xdist workers.

Reading an inventory with Ansible costs a process about a quarter of a
CPU-second (Ansible's import, its plugin loaders, the variable manager), and
each worker would spend it, while the run starts and CPU is scarcest, only to
learn what the controller already knows. So the controller renders, once,
the variables controls read and the deployment templates deploycheck derives
values from (``ship``); each worker rebuilds the same hosts from that
(``received``) and never imports Ansible. A rendering that failed travels as
its message: a control that reads the value fails in the worker exactly as
it would have. Only what controls can read is rendered (``readable``).
Only plain values travel (text, numbers, booleans, null, lists, mappings);
an inventory holding anything else, a YAML date say, is not shipped, and
each worker reads it itself as before.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from deploycheck.inventory.loader import Inventory, Node, RenderError, _plain
from deploycheck.inventory.rendering import Rendered, derivations
from deploycheck.inventory.variables import VARIABLES

VAULTED = "!vault"  # a vaulted value as the workers' raw variables show it: every read renders it
Outcome = tuple[bool, Any]  # (True, value) or (False, the RenderError's message)


class NotShippableError(Exception):
    """A value that cannot travel to a worker as it is."""


def _outcome(host: Node, name: str, value: Any) -> Outcome:
    try:
        return True, host.render(name, value)
    except RenderError as exc:
        return False, str(exc)


def _raw(value: Any) -> Any:
    if type(value).__name__ == "AnsibleVaultEncryptedUnicode":
        return VAULTED
    if isinstance(value, dict):
        return {str(k): _raw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_raw(v) for v in value]
    return _plain(value)


def _check(value: Any) -> Any:
    """``value`` when it is made of the types pytest-xdist's channel carries
    exactly; NotShippableError otherwise (it refuses subclasses and other types)."""
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise NotShippableError(repr(type(key)))
            _check(item)
    elif kind is list or kind is tuple:
        for item in value:
            _check(item)
    elif kind not in (str, int, float, bool, type(None)):
        raise NotShippableError(kind.__name__)
    return value


def _templates(host: Node) -> dict[str, dict[str, Outcome]]:
    found: dict[str, dict[str, Outcome]] = {}
    for name, derived in derivations(host):
        found.setdefault(name, {})[derived.template] = _outcome(host, name, derived.template)
    return found


def _needed(host: Node) -> dict[str, Any]:
    """The part of the host's template context a worker still reads: which
    deployment variables it has (their values stay here) and its inventory's folder."""
    needs = sorted({derived.needs for _, derived in derivations(host)})
    return {**dict.fromkeys(needs), "inventory_dir": _plain(host.context.get("inventory_dir"))}


def readable(inv: Inventory) -> dict[str, Collection[str]]:
    """What a worker's controls can render: the declared variables of the
    hosts that have a role (controls run on those and read their peers).
    Rendering every variable of every host would cost the controller seconds
    on a large inventory (a template takes it some 2.5 ms)."""
    return {host.name: VARIABLES.keys() for role in inv.roles for host in inv.group(role)}


def ship(inv: Inventory, secrets: list[str], renders: dict[str, Collection[str]] | None = None
         ) -> dict[str, Any] | None:
    """The inventory as a worker needs it, with the run's ``secrets`` (the
    controller's Redactor) and the renderings of ``renders`` (host name ->
    variable names; default ``readable``); None when a value cannot travel."""
    renders = readable(inv) if renders is None else renders
    hosts = [{"name": host.name, "groups": list(host.groups),
              "vars": {str(name): _raw(value) for name, value in host.vars.items()},
              "own": {str(name): _outcome(host, name, value) for name, value in host.vars.items()
                      if name in renders.get(host.name, ())},
              "templates": _templates(host) if host.name in renders else {}, "context": _needed(host)}
             for host in inv.hosts.values()]
    wire = {"path": inv.path, "hosts": hosts, "groups": inv.groups, "tree": inv.tree,
            "warnings": list(inv.warnings), "secrets": list(secrets)}
    try:
        return _check(wire)
    except (NotShippableError, RecursionError):
        return None


def received(wire: dict[str, Any]) -> tuple[Inventory, list[str]]:
    """The hosts ``ship`` sent, rendering as they did on the controller, and the run's secrets."""
    hosts: dict[str, Node] = {}
    for item in wire["hosts"]:
        rendered = Rendered({k: tuple(v) for k, v in item["own"].items()},
                            {k: {t: tuple(o) for t, o in v.items()} for k, v in item["templates"].items()})
        hosts[item["name"]] = Node(item["name"], dict(item["vars"]), list(item["groups"]), {}, dict(item["context"]),
                                   None, None, rendered)
    inventory = Inventory(wire["path"], hosts, dict(wire["groups"]), list(wire["warnings"]), dict(wire["tree"]))
    for host in hosts.values():
        host._inventory = inventory
    return inventory, list(wire["secrets"])
