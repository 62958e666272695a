"""deploycheck reads YAML inventories exactly as Ansible does.

Operators write one inventory for Ansible and deploycheck; if the two read it
differently, deploycheck would check other hosts, or other settings, than the
ones Ansible deploys. So each inventory here goes through the real
``ansible-inventory --list`` and through deploycheck's ``load``/``merge``, and
the hosts, the full (transitive) membership of every group, each host's groups
and each host's merged variables must be the same. Inventories Ansible accepts
but deploycheck refuses on purpose must give a clear one-line error instead.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from deploycheck.inventory.loader import Inventory, InventoryError, load, merge
from deploycheck.inventory.variables import VARIABLES

ROOT = Path(__file__).resolve().parents[2]
EDGE = Path(__file__).resolve().parent / "ansible_inventories"
# Not resolved: the venv's bin/python is a symlink, and its bin dir is the one that holds ansible-inventory.
ANSIBLE_INVENTORY = Path(sys.executable).parent / "ansible-inventory"
TIMEOUT_S = 60

# Inventories Ansible accepts and deploycheck refuses on purpose -> the error deploycheck must give.
REJECTED = {
    "rejected-empty-group.yml": "group(s) database have no hosts",
    "rejected-unknown-key.yml": "group 'proxy' has unknown key(s) ['host']",
    "rejected-vault.yml": "encrypted !vault values are not supported",
    "rejected-reversed-range.yml": "empty host range in 'ro[3:1]'",
    "rejected-multiletter-range.yml": "bad host range in 'x[ab:c]'",
}
# Inventories read together, as `--inventory a --inventory b` (Makefile's ALL_REFERENCES) and `ansible -i a -i b`.
MERGED = [
    (ROOT / "inventories" / "reference-idr.yml", ROOT / "inventories" / "reference-vidjil.yml"),
    (EDGE / "merge-1-base.yml", EDGE / "merge-2-override.yml"),
]


def _case_id(paths: Iterable[Path]) -> str:
    return "+".join(str(p.relative_to(ROOT)) for p in paths)


SINGLE = sorted((ROOT / "inventories").glob("*.yml")) + sorted(
    p for p in EDGE.glob("*.yml") if p.name not in REJECTED
)


@dataclass
class View:
    """What an inventory means, in a form both tools can be reduced to."""

    hosts: set[str]
    groups: dict[str, set[str]]  # group -> every host in it, directly or through children
    host_groups: dict[str, set[str]]  # host -> its groups, "all" left out (Ansible's group_names)
    hostvars: dict[str, dict[str, Any]]


# Inventories Ansible refuses too: deploycheck must also stop with one line, not a traceback.
BOTH_REFUSE = {
    "group-cycle": ("all:\n  children:\n    a:\n      hosts: {h: }\n      children:\n        b:\n"
                    "          children:\n            a:\n", "group 'a' is its own ancestor"),
    "range-step-0": ("all:\n  hosts:\n    x[1:3:0]:\n", "host range step 0"),
    "priority-not-a-number": ("all:\n  children:\n    a: {vars: {ansible_group_priority: high}, hosts: {h: }}\n",
                              "ansible_group_priority of group 'a' must be an integer"),
}

AnsibleRun = Callable[..., dict[str, Any]]


@pytest.fixture(scope="session")
def ansible_inventory(tmp_path_factory: pytest.TempPathFactory) -> AnsibleRun:
    """Runs ``ansible-inventory --list`` with no user config and nothing written outside a tmp dir."""
    home = tmp_path_factory.mktemp("ansible")
    (home / "ansible.cfg").write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update({
        "ANSIBLE_CONFIG": str(home / "ansible.cfg"),  # not ./ansible.cfg, ~/.ansible.cfg or /etc/ansible
        "ANSIBLE_HOME": str(home / "home"),
        "ANSIBLE_LOCAL_TEMP": str(home / "tmp"),
        "ANSIBLE_INVENTORY_ENABLED": "yaml",  # the YAML plugin only: the one whose format deploycheck reads
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true",  # a file it cannot parse is an error, not an empty inventory
        "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "true",
        "ANSIBLE_NOCOLOR": "true",
    })

    def run(paths: tuple[Path, ...], accepts: bool = True) -> dict[str, Any]:
        """The ``--list`` JSON; fails the test unless Ansible accepts (or, with accepts=False, refuses) it."""
        if not ANSIBLE_INVENTORY.is_file():
            pytest.fail(f"{ANSIBLE_INVENTORY} is missing: this test needs Ansible; run pip install -e '.[dev]'",
                        pytrace=False)
        command = [str(ANSIBLE_INVENTORY), *(arg for p in paths for arg in ("-i", str(p))), "--list"]
        done = subprocess.run(command, cwd=home, env=env, capture_output=True, text=True, timeout=TIMEOUT_S,
                              check=False)
        if accepts and done.returncode != 0:
            pytest.fail(f"ansible-inventory refused {' '.join(map(str, paths))} (rc {done.returncode}):\n"
                        f"{done.stderr}", pytrace=False)
        if not accepts:
            assert done.returncode != 0, f"ansible-inventory accepts {' '.join(map(str, paths))}"
            return {}
        return json.loads(done.stdout)

    return run


def _plain(value: Any) -> Any:
    """A value as JSON shows it; ``--list`` wraps !unsafe strings, which deploycheck reads as plain strings."""
    if isinstance(value, Mapping):
        if set(value) == {"__ansible_unsafe"}:
            return _plain(value["__ansible_unsafe"])
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _resolve_files(variables: dict[str, Any], base: Path) -> dict[str, Any]:
    """deploycheck's documented rule: a relative ``*_file`` path is relative to
    the inventory file, and ``~`` is the user's home."""

    def resolved(name: str, value: Any) -> Any:
        if not (name.endswith("_file") and isinstance(value, str) and value):
            return value
        if value.startswith("~"):
            return os.path.expanduser(value)
        return value if value.startswith("/") else str((base / value).resolve())

    return {name: resolved(name, value) for name, value in variables.items()}


def ansible_view(listing: dict[str, Any], base: Path) -> View:
    """Ansible's ``--list`` output gives direct hosts and child groups; membership is their closure."""
    entries = {name: body for name, body in listing.items() if name != "_meta"}
    names = set(entries) | {"all"} | {c for body in entries.values() for c in body.get("children", [])}

    def members(group: str, seen: frozenset[str] = frozenset()) -> set[str]:
        body = entries.get(group, {})
        found = set(body.get("hosts", []))
        for child in body.get("children", []):
            if child not in seen:
                found |= members(child, seen | {group})
        return found

    hostvars: dict[str, dict[str, Any]] = listing.get("_meta", {}).get("hostvars", {})
    groups = {g: members(g) for g in names}
    hosts = groups["all"] | set(hostvars)
    return View(
        hosts=hosts,
        groups=groups,
        host_groups={h: {g for g, m in groups.items() if h in m and g != "all"} for h in hosts},
        hostvars={h: _plain(_resolve_files(hostvars.get(h, {}), base)) for h in hosts},
    )


def deploycheck_view(inventory: Inventory) -> View:
    return View(
        hosts=set(inventory.hosts),
        groups={g: set(m) for g, m in inventory.groups.items()},
        host_groups={h.name: set(h.groups) for h in inventory.hosts.values()},
        hostvars={h.name: _plain(h.vars) for h in inventory.hosts.values()},
    )


def _only(label: str, names: set[str]) -> list[str]:
    return [f"{label}: {', '.join(sorted(names))}"] if names else []


def differences(ansible: View, ours: View) -> list[str]:
    """One readable line per disagreement; empty when the two tools agree."""
    out = _only("hosts only ansible has", ansible.hosts - ours.hosts)
    out += _only("hosts only deploycheck has", ours.hosts - ansible.hosts)
    out += _only("groups only ansible has", set(ansible.groups) - set(ours.groups))
    out += _only("groups only deploycheck has", set(ours.groups) - set(ansible.groups))
    for group in sorted(set(ansible.groups) & set(ours.groups)):
        a, d = ansible.groups[group], ours.groups[group]
        if a != d:
            out.append(f"group {group}: only ansible has {sorted(a - d)}, only deploycheck has {sorted(d - a)}")
    for host in sorted(ansible.hosts & ours.hosts):
        a_groups, d_groups = ansible.host_groups[host], ours.host_groups[host]
        if a_groups != d_groups:
            out.append(f"host {host} groups: ansible {sorted(a_groups)}, deploycheck {sorted(d_groups)}")
        a_vars, d_vars = ansible.hostvars[host], ours.hostvars[host]
        for name in sorted(set(a_vars) | set(d_vars)):
            if name not in a_vars and name in VARIABLES and d_vars[name] == _plain(VARIABLES[name].default):
                continue  # a declared default filled in by deploycheck, not something the inventory set
            a_value, d_value = a_vars.get(name, "<unset>"), d_vars.get(name, "<unset>")
            if a_value != d_value or type(a_value) is not type(d_value):
                out.append(f"host {host} variable {name}: ansible {a_value!r}, deploycheck {d_value!r}")
    return out


def assert_same(paths: tuple[Path, ...], ansible_inventory: AnsibleRun) -> None:
    bases = {p.parent for p in paths}
    assert len(bases) == 1, "merged inventories must share a folder, so *_file paths resolve against one base"
    ansible = ansible_view(ansible_inventory(paths), bases.pop())
    ours = deploycheck_view(merge([load(p) for p in paths]))
    problems = differences(ansible, ours)
    if problems:
        pytest.fail(f"ansible-inventory and deploycheck read {_case_id(paths)} differently:\n  "
                    + "\n  ".join(problems), pytrace=False)


@pytest.mark.parametrize("path", SINGLE, ids=lambda p: str(p.relative_to(ROOT)))
def test_inventory_reads_as_ansible_reads_it(path: Path, ansible_inventory: AnsibleRun) -> None:
    """Hosts, group memberships and merged variables of one inventory match ansible-inventory's."""
    assert_same((path,), ansible_inventory)


@pytest.mark.parametrize("paths", MERGED, ids=_case_id)
def test_merged_inventories_read_as_ansible_reads_them(paths: tuple[Path, ...],
                                                        ansible_inventory: AnsibleRun) -> None:
    """Several --inventory files combine as ``ansible -i a -i b`` combines them."""
    assert_same(paths, ansible_inventory)


@pytest.mark.parametrize(("name", "message"), [pytest.param(n, m, id=n) for n, m in sorted(REJECTED.items())])
def test_deliberate_refusals_are_clear(name: str, message: str, ansible_inventory: AnsibleRun) -> None:
    """Where deploycheck is stricter than Ansible, it says why in one line rather than read it otherwise."""
    ansible_inventory((EDGE / name,))  # Ansible accepts it: this is a real difference, not a broken file
    with pytest.raises(InventoryError) as err:
        load(EDGE / name)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(("text", "message"), [pytest.param(t, m, id=k) for k, (t, m) in BOTH_REFUSE.items()])
def test_inventories_ansible_refuses_are_refused_in_one_line(text: str, message: str, tmp_path: Path,
                                                             ansible_inventory: AnsibleRun) -> None:
    """An inventory Ansible cannot use is one deploycheck must not half-read (or crash on)."""
    path = tmp_path / "inventory.yml"
    path.write_text(text)
    ansible_inventory((path,), accepts=False)
    with pytest.raises(InventoryError) as err:
        load(path)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_every_repository_inventory_is_compared() -> None:
    """A new inventory in inventories/ is picked up without editing this file."""
    assert {p.name for p in SINGLE} >= {"reference-idr.yml", "reference-vidjil.yml", "example-production.yml"}
    assert set(REJECTED) <= {p.name for p in EDGE.glob("*.yml")}
