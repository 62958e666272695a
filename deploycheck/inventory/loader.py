"""Inventories as Ansible reads them.

Ansible's own inventory and variable managers load the sources, so
deploycheck sees exactly what ``ansible-inventory -i X [--playbook-dir D]
--list`` sees: INI, YAML, TOML, directories, ``group_vars/`` and
``host_vars/`` beside the inventory and beside the playbooks, installed
inventory plugins, vault. Values are rendered with Ansible's templating when
a control reads them (``Node.render``), with lookups disabled: an inventory
value never runs a command on the controller.

Ansible is imported only to read an inventory or render a value: pytest-xdist
workers get the controller's reading (deploycheck.inventory.shipped) and
never pay for it.
"""

from __future__ import annotations

import functools
import os
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ansible.parsing.dataloader import DataLoader
    from ansible.parsing.vault import VaultSecret

    from deploycheck.inventory.rendering import Rendered

MAX_HOSTS = 10_000  # hosts one inventory may hold (a range such as web[1:100000000] would exhaust memory)
MAX_VALUES = 100_000  # scalars one variable may expand to (YAML aliases can nest into billions)

# Variables a connection needs before any control runs: one that cannot be rendered is a usage error.
CONNECTION_VARS = ("ansible_host", "ansible_port", "ansible_user", "ansible_connection", "ansible_timeout",
                   "ansible_ssh_private_key_file", "ansible_ssh_common_args", "ansible_ssh_extra_args",
                   "ansible_become", "ansible_become_user")


class InventoryError(Exception):
    """The inventory cannot be used; the message is one line for the user."""


class RenderError(Exception):
    """A value that cannot be rendered without facts, a vault password or a
    lookup; it fails only the controls that read it."""


def one_line(exc: BaseException) -> str:
    """Ansible's messages span lines (with the offending source quoted): keep them on one."""
    text = " ".join(str(getattr(exc, "message", None) or exc).split())
    # bytes that are not UTF-8 (kept by Ansible as surrogates) shown escaped, never written raw
    return cut(text.encode("utf-8", "backslashreplace").decode("utf-8"), 800)


def cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with a truncation mark, where the
    Redactor looks for the kept part of a secret cut before it was masked."""
    return text if len(text) <= limit else text[:limit - 3] + "..."


@dataclass
class Node:
    """One inventory host, as controls take it (``node``; ``host`` is always
    testinfra's view of its shell): ``vars`` as ``ansible-inventory --list``
    shows them (connection variables already rendered), the rest rendered
    on demand with the host's full variable context."""

    name: str
    vars: dict[str, Any] = field(default_factory=dict)
    groups: list[str] = field(default_factory=list)
    listed: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)  # as ansible-inventory lists them
    _context: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _loader: DataLoader | None = field(default=None, repr=False, compare=False)
    _inventory: Inventory | None = field(default=None, repr=False, compare=False)
    _rendered: Rendered | None = field(default=None, repr=False, compare=False)  # the controller's renderings

    def __repr__(self) -> str:
        """Names only: pytest prints the locals of a failing control, and a host's
        variables hold its passwords."""
        return f"Node({self.name!r}, {len(self.vars)} variables, groups={self.groups!r})"

    @property
    def address(self) -> str:
        return str(self.vars.get("ansible_host", self.name))

    @property
    def context(self) -> dict[str, Any]:
        """Every variable Ansible gives the host, magic ones included (what templates see)."""
        return self._context

    def peer(self, role: str) -> Node | None:
        """The first host of a role in the same inventory (a setting the deployment keeps on other hosts)."""
        hosts = self._inventory.group(role) if self._inventory is not None else []
        return hosts[0] if hosts else None

    def has_role(self, role: str) -> bool:
        """Whether the host is among the hosts of a profile's role."""
        return self._inventory is not None and any(h.name == self.name for h in self._inventory.group(role))

    def render(self, name: str, value: Any) -> Any:
        """``value`` with its Jinja rendered as Ansible would for this host, in
        deploycheck's sandbox; ``*_file`` paths are relative to the host's
        inventory and may use ``~``. Values read by controls were rendered when
        the inventory was read (deploycheck.inventory.rendering); any other
        template is rendered now, isolated in the same way."""
        if self._rendered is not None:
            found = self._rendered.lookup(self, name, value)
            if found is not None:
                from deploycheck.inventory.rendering import settle

                return settle(found)
            if self._loader is None:
                return self._rendered.render(self, name, value)
        try:
            plain = _unvault(value)
        except _UndecryptableError as exc:
            raise RenderError(f"{self.name}: variable {name} cannot be rendered: {exc}") from None
        if self._loader is None or not _has_template(plain):
            return plain_path(self, name, _plain(plain))
        from deploycheck.inventory.rendering import isolated, settle

        return settle(isolated([(self, name, value)])[0])


def render_here(host: Node, name: str, value: Any) -> Any:
    """Renders in this process, in the sandbox: for an isolated child only
    (deploycheck.inventory.isolation), where time and memory are bounded."""
    from deploycheck.inventory import sandbox

    try:
        value = _unvault(value)
    except _UndecryptableError as exc:
        raise RenderError(f"{host.name}: variable {name} cannot be rendered: {exc}") from None
    if host._loader is not None and _has_template(value):
        from ansible.errors import AnsibleError
        from ansible.template import Templar

        sandbox.install()
        templar = Templar(loader=host._loader, variables=host._context)
        try:
            value = templar.template(value, disable_lookups=True)
        except Exception as exc:  # Ansible wraps the sandbox's refusals in errors of its own
            refusal = sandbox.refused(exc)
            if refusal is not None:
                from deploycheck.inventory.rendering import BEYOND, REFUSED

                if isinstance(refusal, MemoryError | RecursionError):
                    why, detail = f"cannot be rendered: {BEYOND}", f"{type(refusal).__name__} (memory or depth)"
                else:
                    why = BEYOND if isinstance(refusal, sandbox.BoundError) else REFUSED
                    detail = one_line(refusal)[:300]
                raise RenderError(f"{host.name}: variable {name} {why}: {detail}") from None
            if isinstance(exc, AnsibleError):
                raise RenderError(f"{host.name}: variable {name} cannot be rendered: {one_line(exc)}") from None
            raise RenderError(f"{host.name}: variable {name} cannot be rendered: {type(exc).__name__}: "
                              f"{one_line(exc)}") from None
    return plain_path(host, name, _plain(value))


def plain_path(host: Node, name: str, value: Any) -> Any:
    """A ``*_file`` variable's path as Ansible resolves it: relative to the
    host's inventory folder, ``~`` expanded; any other value as it is."""
    if name.endswith("_file") and isinstance(value, str) and value:
        return str(Path(host.context.get("inventory_dir") or ".") / os.path.expanduser(value))
    return value


class _UndecryptableError(Exception):
    """A vaulted value without its password (or with another one)."""


def _unvault(value: Any) -> Any:
    """Vault-encrypted values decrypted (with the password given), so templates can use them."""
    if type(value).__name__ == "AnsibleVaultEncryptedUnicode":
        from ansible.errors import AnsibleError  # only an inventory Ansible read holds vaulted values

        try:
            return str(value.data)
        except AnsibleError as exc:
            raise _UndecryptableError(one_line(exc)) from None
    if isinstance(value, dict):
        return {k: _unvault(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unvault(v) for v in value]
    return value


def _has_template(value: Any) -> bool:
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, dict):
        return any(_has_template(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_template(v) for v in value)
    return False


def _plain(value: Any) -> Any:
    """Ansible's str/list/dict subclasses as plain Python values (``str()``
    of Ansible's unsafe text is unsafe text still: ``str.__str__`` is not)."""
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if value is None:
        return value
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, dict):
        return {_plain(k) if isinstance(k, str) else str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@dataclass(repr=False)
class Inventory:
    """Hosts and the full (transitive) membership of every group, as Ansible computes them."""

    path: str
    hosts: dict[str, Node]
    groups: dict[str, list[str]]
    warnings: list[str] = field(default_factory=list)
    tree: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # group -> direct "hosts" and "children"
    roles: dict[str, str] = field(default_factory=dict)  # a profile's role -> the inventory group that holds it

    def __repr__(self) -> str:
        return f"Inventory({self.path!r}, {len(self.hosts)} hosts)"

    def members(self, group: str) -> list[Node]:
        """Hosts of an inventory group in inventory order; empty when the group is absent."""
        return [self.hosts[h] for h in self.groups.get(group, [])]

    def group(self, role: str) -> list[Node]:
        """Hosts of a role (``proxy``, ``database``...), by the group deploycheck.inventory.roles chose."""
        return self.members(self.roles[role]) if role in self.roles else []


class _Warnings:
    """Ansible's warnings, kept for the run header instead of printed as they come."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, msg: str, formatted: bool = False) -> None:
        line = " ".join(str(msg).split())
        if line not in self.seen:
            self.seen.append(line)


def _vault_secrets(password_file: str | None) -> list[tuple[str, VaultSecret]]:
    path = password_file or os.environ.get("ANSIBLE_VAULT_PASSWORD_FILE")
    if not path:
        return []
    file = Path(os.path.expanduser(path))
    if not file.is_file():
        raise InventoryError(f"vault password file {path} not found")
    if os.access(file, os.X_OK):
        raise InventoryError(f"vault password file {path} is executable: deploycheck reads passwords, it runs no "
                             "scripts (give a plain file)")
    secret = file.read_bytes().splitlines()[0].strip() if file.stat().st_size else b""
    if not secret:
        raise InventoryError(f"vault password file {path} is empty")
    from ansible.parsing.vault import VaultSecret

    return [("default", VaultSecret(secret))]


@functools.cache
def _init_plugins() -> None:
    """Ansible's plugin and collection loaders, as its own commands set them up
    (inventory plugins such as ``ansible.builtin.constructed`` are found through
    them), with host ranges bounded before they are expanded. A source no
    plugin can read is an error, not a warning followed by an empty inventory."""
    from ansible import constants as C  # noqa: N812 - Ansible's own name for its settings
    from ansible.errors import AnsibleError
    from ansible.plugins import inventory as inventory_plugins
    from ansible.plugins.loader import init_plugin_loader

    C.INVENTORY_ANY_UNPARSED_IS_FAILED = True
    C.INVENTORY_UNPARSED_IS_FAILED = True
    init_plugin_loader()
    expand = inventory_plugins.expand_hostname_range

    def bounded(line: str | None = None) -> list[str]:
        if line and _range_size(line) > MAX_HOSTS:
            raise AnsibleError(f"host range '{line[:80]}' expands to more than {MAX_HOSTS} hosts")
        return expand(line)

    inventory_plugins.expand_hostname_range = bounded
    _untrust_dynamic_sources()


STATIC_PLUGINS = frozenset({"ini", "yaml", "toml", "host_list", "advanced_host_list"})  # files the operator wrote
_reading_dynamic: list[bool] = [False]


def _untrust_dynamic_sources() -> None:
    """Values an inventory script or plugin reports (cloud tags, a CMDB) are
    data, never templates, as ansible-core 2.19 treats them: they are marked
    unsafe as they enter the inventory, and Ansible's templating then leaves
    them as they are. Values from the files an operator wrote stay templates."""
    from ansible.inventory.data import InventoryData
    from ansible.inventory.manager import InventoryManager

    set_variable = InventoryData.set_variable
    fetch = InventoryManager._fetch_inventory_plugins

    def marked(self: Any, entity: str, varname: str, value: Any) -> None:
        set_variable(self, entity, varname, untrusted(value) if _reading_dynamic[0] else value)

    def plugins(self: Any) -> list[Any]:
        return [p if _plugin_name(p) in STATIC_PLUGINS else _DynamicPlugin(p) for p in fetch(self)]

    InventoryData.set_variable = marked
    InventoryManager._fetch_inventory_plugins = plugins


def _plugin_name(plugin: Any) -> str:
    return str(getattr(plugin, "_load_name", "")).rsplit(".", 1)[-1]


class Untrusted(str):
    """Text Ansible's templating leaves as it is (it honours ``__UNSAFE__``),
    listed as plain text, unlike ``!unsafe`` values, which Ansible lists marked."""

    __UNSAFE__ = True


def untrusted(value: Any) -> Any:
    if isinstance(value, str):
        return value if hasattr(value, "__UNSAFE__") else Untrusted(value)
    if isinstance(value, dict):
        return {k: untrusted(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [untrusted(v) for v in value]
    return value


class _DynamicPlugin:
    """An inventory plugin whose ``parse`` reports untrusted values."""

    def __init__(self, plugin: Any) -> None:
        self._plugin = plugin

    def __getattr__(self, name: str) -> Any:
        return getattr(self._plugin, name)

    def parse(self, *args: Any, **kwargs: Any) -> Any:
        _reading_dynamic[0] = True
        try:
            return self._plugin.parse(*args, **kwargs)
        finally:
            _reading_dynamic[0] = False


_RANGE = re.compile(r"\[([^\[\]]*)\]")


def _range_size(pattern: str) -> int:
    """How many names a host pattern expands to, computed, not expanded (a
    malformed range counts as one: Ansible's own expansion then refuses it)."""
    size = 1
    for body in _RANGE.findall(pattern):
        parts = body.split(":")
        try:
            begin, end = parts[0] or "0", parts[1]
            step = int(parts[2]) if len(parts) > 2 else 1
            if begin.isalpha() and end.isalpha():
                count = (string.ascii_letters.index(end) - string.ascii_letters.index(begin)) // max(step, 1) + 1
            else:
                count = (int(end) - int(begin)) // max(step, 1) + 1
        except (IndexError, ValueError):
            continue
        size *= max(count, 1)
    return size


def load(sources: Sequence[str | Path], playbook_dir: str | Path | None = None,
         vault_password_file: str | None = None, render: bool = True) -> Inventory:
    """Read the sources together, as ``ansible-inventory -i A -i B`` does;
    with ``render``, also render what controls can read (a listing renders nothing)."""
    if not sources:
        raise InventoryError("no inventory given")
    for source in sources:
        if not Path(source).exists():
            raise InventoryError(f"{source}: inventory file not found")
    if playbook_dir is not None and not Path(playbook_dir).is_dir():
        raise InventoryError(f"--playbook-dir {playbook_dir}: not a folder")
    _init_plugins()
    from deploycheck.inventory import sandbox

    sandbox.install()  # templates Ansible itself renders while reading (a constructed plugin's compose)
    from deploycheck.inventory import preflight

    preflight.check_files(sources, playbook_dir)
    from ansible import constants as C  # noqa: N812
    from ansible.errors import AnsibleError
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.utils.display import Display
    from ansible.vars.manager import VariableManager

    loader = DataLoader()
    if playbook_dir is not None:
        loader.set_basedir(str(Path(playbook_dir).resolve()))
    loader.set_vault_secrets(_vault_secrets(vault_password_file))
    display = Display()
    warnings = _Warnings()
    saved = display.warning
    display.warning = warnings
    try:
        manager = InventoryManager(loader=loader, sources=[str(s) for s in sources])
        variables = VariableManager(loader=loader, inventory=manager)
        hosts: dict[str, Node] = {}
        for h in manager.get_hosts("all"):
            context = variables.get_vars(host=h, include_hostvars=False, stage="all")
            shown = {k: v for k, v in context.items() if k not in C.INTERNAL_STATIC_VARS}
            member_of = sorted(str(g.name) for g in h.get_groups() if g.name != "all")
            hosts[str(h.name)] = Node(str(h.name), dict(shown), member_of, shown, context, loader)
        # names as plain str: Ansible's str subclasses cannot travel to xdist workers in reports
        groups = {str(name): [str(h.name) for h in group.get_hosts()] for name, group in manager.groups.items()}
        tree = {str(name): {"hosts": [str(h.name) for h in group.hosts],
                            "children": [str(c.name) for c in group.child_groups]}
                for name, group in manager.groups.items()}
    except AnsibleError as exc:
        why = [re.sub(r"^\W*Failed to parse \S+ with (\S+) plugin: ", r"\1: ", w) for w in warnings.seen
               if "failed to parse" in w.lower() and "no root 'plugin' key found" not in w]
        detail = f" ({'; '.join(why)})" if why else ""
        raise InventoryError(cut(" ".join(f"{', '.join(str(s) for s in sources)}: {one_line(exc)}{detail}".split()),
                                 600)) from None
    finally:
        display.warning = saved
    if not hosts:
        raise InventoryError(f"{', '.join(str(s) for s in sources)}: the inventory has no hosts")
    if len(hosts) > MAX_HOSTS:
        raise InventoryError(f"{', '.join(str(s) for s in sources)}: {len(hosts)} hosts; deploycheck reads at most "
                             f"{MAX_HOSTS}")
    preflight.check_hosts(hosts.values(), ", ".join(str(s) for s in sources))
    inventory = Inventory(", ".join(str(s) for s in sources), hosts, groups, warnings.seen, tree)
    for host in hosts.values():
        host._inventory = inventory
    if render:
        from deploycheck.inventory.rendering import prepare

        prepare(inventory)
        for host in hosts.values():
            _render_connection(host)
    return inventory


def _render_connection(host: Node) -> None:
    """Connection variables are needed before any control: rendered now, or the run stops."""
    from deploycheck.inventory.connection import check_connection_vars

    for name in CONNECTION_VARS:
        if name in host.vars:
            try:
                host.vars[name] = host.render(name, host.vars[name])
            except RenderError as exc:
                raise InventoryError(str(exc)) from None
    check_connection_vars(host)
    if host.name.startswith("-"):
        raise InventoryError(f"host name '{host.name}' starts with '-' (ssh or docker would read it as an option)")
    for name in ("ansible_host", "ansible_user"):
        value = host.vars.get(name)
        if isinstance(value, str) and value.startswith("-"):
            raise InventoryError(f"{host.name}: {name} '{value}' starts with '-' (ssh or docker would read it as an "
                                 "option)")

