"""Ansible-style YAML inventories: hosts, groups and merged variables.

Follows Ansible's rules for the YAML inventory format: ``all`` is the root,
``children`` nest groups, host patterns like ``ro[1:3]`` expand, and
variables merge from ``all`` down through parent groups (deeper groups win,
then higher ``ansible_group_priority``, then name order) to host variables.
Hosts in no group but ``all`` form ``ungrouped``; ``name:port`` sets
``ansible_port``. selftests/unit/test_ansible_parity.py checks all this
against the real ``ansible-inventory``.
"""

from __future__ import annotations

import os
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
    # The parsed declarations, so merge() can recompute precedence over all files as Ansible does.
    _source: _Builder | None = field(default=None, repr=False, compare=False)

    def group(self, name: str) -> list[Host]:
        """Hosts of a group in inventory order; empty when the group is absent."""
        return [self.hosts[h] for h in self.groups.get(name, [])]


_RANGE = re.compile(r"\[([0-9a-zA-Z]*):([0-9a-zA-Z]+)(?::(\d+))?\]")
_BRACKETED_PORT = re.compile(r"\[([^\[\]]+)\]:(\d+)")  # [fe80::1]:2222
_TRAILING_PORT = re.compile(r"(.+):(\d+)")  # host:2222, web[1:3]:2222
_PRIORITY = "ansible_group_priority"  # orders sibling groups; Ansible keeps it out of the host's variables


def expand_pattern(pattern: str) -> list[str]:
    """``web[01:03]`` -> web01, web02, web03 (Ansible's host ranges)."""
    match = _RANGE.search(pattern)
    if match is None:
        return [pattern]
    start, end, step_text = match.group(1) or "0", match.group(2), match.group(3)
    step = int(step_text or 1)
    if step == 0:
        raise InventoryError(f"host range step 0 in '{pattern}'")
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


def _split_port(pattern: str) -> tuple[str, int | None]:
    """``web1:2222`` -> (web1, 2222); a bare IPv6 address keeps its colons (Ansible's host:port)."""
    bracketed = _BRACKETED_PORT.fullmatch(pattern)
    if bracketed is not None and _RANGE.fullmatch(pattern[: pattern.rindex(":")]) is None:
        return bracketed.group(1), int(bracketed.group(2))
    trailing = _TRAILING_PORT.fullmatch(pattern)
    if trailing is not None and ":" not in re.sub(r"\[[^\]]*\]", "", trailing.group(1)):
        return trailing.group(1), int(trailing.group(2))
    return pattern, None


class _VaultError(InventoryError):
    """A ``!vault`` value: deploycheck has no vault password, so it refuses rather than guess."""


def _construct_unsafe(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    """``!unsafe`` only stops Ansible templating; deploycheck never templates, so it is the plain value."""
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)  # type: ignore[arg-type]


def _construct_vault(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    raise _VaultError(f"line {node.start_mark.line + 1}: encrypted {node.tag} values are not supported "
                      "(deploycheck cannot decrypt them; set the variable in plain text in an inventory kept private)")


class _Loader(yaml.SafeLoader):
    """``yaml.safe_load`` plus the tags Ansible inventories use."""


_Loader.add_constructor("!unsafe", _construct_unsafe)
_Loader.add_constructor("!vault", _construct_vault)
_Loader.add_constructor("!vault-encrypted", _construct_vault)


class _Builder:
    """The declarations of one or more inventory files, before precedence is applied."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.group_vars: dict[str, dict[str, Any]] = {}
        self.group_hosts: dict[str, list[str]] = {}
        self.parents: dict[str, set[str]] = {}
        self.host_vars: dict[str, dict[str, Any]] = {}
        self.host_order: list[str] = []
        self.ports: dict[str, int] = {}  # from name:port, kept only where the host was first declared

    def add_group(self, name: str, body: Any, parent: str | None) -> None:
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise InventoryError(f"{self.path}: group '{name}' must be a mapping, got {type(body).__name__}")
        unknown = set(body) - {"hosts", "vars", "children"}
        if unknown:
            raise InventoryError(f"{self.path}: group '{name}' has unknown key(s) {sorted(unknown)}")
        self.group_vars.setdefault(name, {})
        self.group_hosts.setdefault(name, [])
        self.parents.setdefault(name, set())
        if parent is not None:
            self.parents[name].add(parent)
        for key, value in body.items():  # in file order, as Ansible reads them: it decides which value is set last
            if key == "vars":
                if value is not None and not isinstance(value, dict):
                    raise InventoryError(f"{self.path}: vars of group '{name}' must be a mapping")
                self.group_vars[name].update(value or {})
            elif key == "hosts":
                self.add_hosts(name, value)
            else:
                if value is not None and not isinstance(value, dict):
                    raise InventoryError(f"{self.path}: children of group '{name}' must be a mapping")
                for child, child_body in (value or {}).items():
                    self.add_group(str(child), child_body, name)

    def add_hosts(self, group: str, hosts: Any) -> None:
        if hosts is None:
            return
        if not isinstance(hosts, dict):
            raise InventoryError(f"{self.path}: hosts of group '{group}' must be a mapping")
        for pattern, hvars in hosts.items():
            if hvars is not None and not isinstance(hvars, dict):
                raise InventoryError(f"{self.path}: variables of host '{pattern}' must be a mapping")
            names, port = _split_port(str(pattern))
            for host in expand_pattern(names):
                if host not in self.host_vars:
                    self.host_order.append(host)
                    self.host_vars[host] = {}
                    if port is not None:
                        self.ports[host] = port
                self.host_vars[host].update(hvars or {})
                if host not in self.group_hosts[group]:
                    self.group_hosts[group].append(host)

    def absorb(self, other: _Builder) -> None:
        """Add a later file's declarations (``ansible -i a -i b``): later values win, groups join."""
        for host in other.host_order:
            if host not in self.host_vars:
                self.host_order.append(host)
                self.host_vars[host] = {}
                if host in other.ports:
                    self.ports[host] = other.ports[host]
            self.host_vars[host].update(other.host_vars[host])
        for group, members in other.group_hosts.items():
            self.group_vars.setdefault(group, {}).update(other.group_vars.get(group, {}))
            known = self.group_hosts.setdefault(group, [])
            known += [h for h in members if h not in known]
            self.parents.setdefault(group, set()).update(other.parents.get(group, set()))

    def resolve_files(self, base: Path) -> None:
        """``*_file`` paths are relative to the inventory file that sets them; ``~`` is the user's home."""
        for variables in [*self.group_vars.values(), *self.host_vars.values()]:
            for name, value in variables.items():
                if not (name.endswith("_file") and isinstance(value, str) and value):
                    continue
                if value.startswith("~"):
                    variables[name] = os.path.expanduser(value)
                elif not value.startswith("/"):
                    variables[name] = str((base / value).resolve())

    def ancestors(self, group: str, seen: frozenset[str] = frozenset()) -> set[str]:
        if group in seen:
            raise InventoryError(f"{self.path}: group '{group}' is its own ancestor")
        out: set[str] = set()
        for parent in self.parents.get(group, ()):
            out |= {parent} | self.ancestors(parent, seen | {group})
        return out

    def depth(self, group: str) -> int:
        return 0 if group == "all" else 1 + max((self.depth(p) for p in self.parents.get(group) or {"all"}), default=0)

    def priority(self, group: str) -> int:
        value = self.group_vars.get(group, {}).get(_PRIORITY, 1)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise InventoryError(f"{self.path}: {_PRIORITY} of group '{group}' must be an integer") from None

    def direct_hosts(self) -> dict[str, list[str]]:
        """Each group's own hosts; ``ungrouped`` holds exactly the hosts in no other group (Ansible's rule)."""
        direct = {g: list(members) for g, members in self.group_hosts.items()}
        grouped = {h for g, members in direct.items() if g not in ("all", "ungrouped") for h in members}
        direct["ungrouped"] = [h for h in self.host_order if h not in grouped]
        return direct

    def build(self) -> Inventory:
        for group in self.group_hosts:
            self.ancestors(group)  # a cycle is an error, before anything recurses through it
        direct = self.direct_hosts()
        children: dict[str, list[str]] = {g: [] for g in direct}
        for child, parents in self.parents.items():
            for parent in parents:
                children.setdefault(parent, []).append(child)

        def members(group: str) -> list[str]:
            """Hosts of the group and of all its descendants."""
            found = list(direct.get(group, []))
            for child in children.get(group, []):
                found += [h for h in members(child) if h not in found]
            return found

        groups = {"all": list(self.host_order)} | {g: members(g) for g in direct if g != "all"}
        hosts: dict[str, Host] = {}
        for name in self.host_order:
            all_groups = {g for g, own in direct.items() if name in own}
            for g in list(all_groups):
                all_groups |= self.ancestors(g)
            all_groups.discard("all")
            merged: dict[str, Any] = dict(self.group_vars.get("all", {}))
            for g in sorted(all_groups, key=lambda g: (self.depth(g), self.priority(g), g)):
                merged.update(self.group_vars.get(g, {}))
            merged.pop(_PRIORITY, None)
            if name in self.ports:
                merged["ansible_port"] = self.ports[name]
            merged.update(self.host_vars[name])
            hosts[name] = Host(name, merged, sorted(all_groups))
        return Inventory(self.path, hosts, groups, self)


def _read(text: str, path: str) -> _Builder:
    try:
        data = yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except _VaultError as exc:
        raise InventoryError(f"{path}: {exc}") from None
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
    return builder


def _checked(inventory: Inventory) -> Inventory:
    """deploycheck refuses what is most likely a mistake: no hosts, or a group left empty."""
    if not inventory.hosts:
        raise InventoryError(f"{inventory.path}: the inventory has no hosts")
    empty = sorted(g for g, members in inventory.groups.items() if not members and g != "ungrouped")
    if empty:
        raise InventoryError(f"{inventory.path}: group(s) {', '.join(empty)} have no hosts")
    return inventory


def parse(text: str, path: str = "<inventory>") -> Inventory:
    return _checked(_read(text, path).build())


def load(path: str | Path) -> Inventory:
    p = Path(path)
    if not p.is_file():
        raise InventoryError(f"inventory file not found: {path}")
    builder = _read(p.read_text(), str(path))
    builder.resolve_files(p.resolve().parent)
    return _checked(builder.build())


def merge(inventories: list[Inventory]) -> Inventory:
    """Several inventories as one, as ``ansible -i a -i b`` sees them (later files win)."""
    if len(inventories) == 1:
        return inventories[0]
    path = ",".join(inv.path for inv in inventories)
    if all(inv._source is not None for inv in inventories):
        combined = _Builder(path)
        for inv in inventories:
            combined.absorb(inv._source)  # type: ignore[arg-type]
        return combined.build()
    hosts: dict[str, Host] = {}  # hand-made Inventory objects: no declarations to recompute from
    groups: dict[str, list[str]] = {}
    for inv in inventories:
        for name, host in inv.hosts.items():
            known = hosts.get(name)
            hosts[name] = Host(name, {**(known.vars if known else {}), **host.vars},
                               sorted(set((known.groups if known else []) + host.groups)))
        for group, members in inv.groups.items():
            groups[group] = groups.get(group, []) + [m for m in members if m not in groups.get(group, [])]
    return Inventory(path, hosts, groups)
