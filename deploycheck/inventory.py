"""Ansible-style YAML inventories: hosts, groups and merged variables.

Follows Ansible's rules for the YAML inventory format: ``all`` is the root,
``children`` nest groups, host patterns like ``ro[1:3]`` expand, and
variables merge from ``all`` down through parent groups (deeper groups win,
siblings in name order) to host variables.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class InventoryError(Exception):
    """The inventory cannot be used; the message is one line for the user."""


@dataclass
class Host:
    name: str
    vars: dict[str, Any] = field(default_factory=dict)
    groups: list[str] = field(default_factory=list)

    @property
    def address(self) -> str:
        return str(self.vars.get("ansible_host", self.name))


@dataclass
class Inventory:
    path: str
    hosts: dict[str, Host]
    groups: dict[str, list[str]]

    def group(self, name: str) -> list[Host]:
        """Hosts of a group in inventory order; empty when the group is absent."""
        return [self.hosts[h] for h in self.groups.get(name, [])]


_RANGE = re.compile(r"\[([0-9a-zA-Z]+):([0-9a-zA-Z]+)(?::(\d+))?\]")


def expand_pattern(pattern: str) -> list[str]:
    """``web[01:03]`` -> web01, web02, web03 (Ansible's host ranges)."""
    match = _RANGE.search(pattern)
    if match is None:
        return [pattern]
    start, end, step_text = match.group(1), match.group(2), match.group(3)
    step = int(step_text or 1)
    head, tail = pattern[: match.start()], pattern[match.end() :]
    if start.isdigit() and end.isdigit():
        width = len(start) if start.startswith("0") and len(start) > 1 else 0
        values = [str(n).zfill(width) for n in range(int(start), int(end) + 1, step)]
    elif len(start) == 1 and len(end) == 1 and start.isalpha() and end.isalpha():
        letters = string.ascii_letters
        values = list(letters[letters.index(start) : letters.index(end) + 1 : step])
    else:
        raise InventoryError(f"bad host range in '{pattern}'")
    if not values:
        raise InventoryError(f"empty host range in '{pattern}'")
    return [name for value in values for name in expand_pattern(head + value + tail)]


class _Builder:
    def __init__(self, path: str) -> None:
        self.path = path
        self.group_vars: dict[str, dict[str, Any]] = {}
        self.group_hosts: dict[str, list[str]] = {}
        self.parents: dict[str, set[str]] = {}
        self.host_vars: dict[str, dict[str, Any]] = {}
        self.host_order: list[str] = []

    def add_group(self, name: str, body: Any, parent: str | None) -> None:
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise InventoryError(f"{self.path}: group '{name}' must be a mapping, got {type(body).__name__}")
        unknown = set(body) - {"hosts", "vars", "children"}
        if unknown:
            raise InventoryError(f"{self.path}: group '{name}' has unknown key(s) {sorted(unknown)}")
        self.group_vars.setdefault(name, {}).update(body.get("vars") or {})
        self.group_hosts.setdefault(name, [])
        self.parents.setdefault(name, set())
        if parent is not None:
            self.parents[name].add(parent)
        hosts = body.get("hosts") or {}
        if not isinstance(hosts, dict):
            raise InventoryError(f"{self.path}: hosts of group '{name}' must be a mapping")
        for pattern, hvars in hosts.items():
            if hvars is not None and not isinstance(hvars, dict):
                raise InventoryError(f"{self.path}: variables of host '{pattern}' must be a mapping")
            for host in expand_pattern(str(pattern)):
                if host not in self.host_vars:
                    self.host_order.append(host)
                self.host_vars.setdefault(host, {}).update(hvars or {})
                if host not in self.group_hosts[name]:
                    self.group_hosts[name].append(host)
        children = body.get("children") or {}
        if not isinstance(children, dict):
            raise InventoryError(f"{self.path}: children of group '{name}' must be a mapping")
        for child, child_body in children.items():
            self.add_group(str(child), child_body, name)

    def ancestors(self, group: str, seen: frozenset[str] = frozenset()) -> set[str]:
        if group in seen:
            raise InventoryError(f"{self.path}: group '{group}' is its own ancestor")
        out: set[str] = set()
        for parent in self.parents.get(group, ()):
            out |= {parent} | self.ancestors(parent, seen | {group})
        return out

    def depth(self, group: str) -> int:
        return 0 if group == "all" else 1 + max((self.depth(p) for p in self.parents.get(group, {"all"})), default=0)

    def members(self, group: str) -> list[str]:
        """Hosts of the group and of all its descendants."""
        found = list(self.group_hosts.get(group, []))
        for child, parents in self.parents.items():
            if group in parents:
                found += [h for h in self.members(child) if h not in found]
        return found

    def build(self) -> Inventory:
        groups = {g: self.members(g) for g in self.group_hosts}
        groups["all"] = list(self.host_order)
        hosts: dict[str, Host] = {}
        for name in self.host_order:
            direct = [g for g, members in self.group_hosts.items() if name in members]
            all_groups = set(direct)
            for g in direct:
                all_groups |= self.ancestors(g)
            all_groups.discard("all")
            merged: dict[str, Any] = dict(self.group_vars.get("all", {}))
            for g in sorted(all_groups, key=lambda g: (self.depth(g), g)):
                merged.update(self.group_vars.get(g, {}))
            merged.update(self.host_vars[name])
            hosts[name] = Host(name, merged, sorted(all_groups))
        return Inventory(self.path, hosts, groups)


def parse(text: str, path: str = "<inventory>") -> Inventory:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise InventoryError(f"{path}: not valid YAML{where}") from exc
    if data is None:
        raise InventoryError(f"{path}: the inventory is empty")
    if not isinstance(data, dict):
        raise InventoryError(f"{path}: an inventory is a mapping of groups, got {type(data).__name__}")
    builder = _Builder(path)
    builder.add_group("all", data.get("all") or {}, None)
    for name, body in data.items():
        if name != "all":
            builder.add_group(str(name), body, "all")
    inventory = builder.build()
    if not inventory.hosts:
        raise InventoryError(f"{path}: the inventory has no hosts")
    empty = sorted(g for g, members in inventory.groups.items() if not members)
    if empty:
        raise InventoryError(f"{path}: group(s) {', '.join(empty)} have no hosts")
    return inventory


def load(path: str | Path) -> Inventory:
    p = Path(path)
    if not p.is_file():
        raise InventoryError(f"inventory file not found: {path}")
    inventory = parse(p.read_text(), str(path))
    for host in inventory.hosts.values():  # *_file paths are relative to the inventory file
        for name, value in host.vars.items():
            if name.endswith("_file") and isinstance(value, str) and value and not value.startswith(("/", "~")):
                host.vars[name] = str((p.resolve().parent / value).resolve())
    return inventory


def merge(inventories: list[Inventory]) -> Inventory:
    """Several inventories as one, as ``ansible -i a -i b`` sees them (later files win)."""
    if len(inventories) == 1:
        return inventories[0]
    hosts: dict[str, Host] = {}
    groups: dict[str, list[str]] = {}
    for inv in inventories:
        for name, host in inv.hosts.items():
            known = hosts.get(name)
            hosts[name] = Host(name, {**(known.vars if known else {}), **host.vars},
                               sorted(set((known.groups if known else []) + host.groups)))
        for group, members in inv.groups.items():
            groups[group] = groups.get(group, []) + [m for m in members if m not in groups.get(group, [])]
    return Inventory(",".join(inv.path for inv in inventories), hosts, groups)
