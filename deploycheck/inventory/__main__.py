"""Show what deploycheck will check, before it checks it.

    python -m deploycheck.inventory -i hosts [-i more] [--playbook-dir D] --list
    python -m deploycheck.inventory -i hosts --expectations

``--list`` prints the resolved inventory in the JSON shape of
``ansible-inventory --list`` (secrets masked unless ``--show-secrets``);
``--expectations`` prints, per host, each value a control will use and where
it comes from: a deploycheck variable, the deployment's own variable, or the
default. Bad input is one line on stderr and exit status 2."""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
from pathlib import Path
from typing import Any

from ansible.module_utils.common.json import AnsibleJSONEncoder

from deploycheck.inventory import loader, roles
from deploycheck.inventory.loader import Inventory, InventoryError, RenderError
from deploycheck.inventory.variables import VARIABLES, resolve
from deploycheck.report.redact import redactor_for

CONTROLS = Path(__file__).resolve().parent.parent / "tests"


def ansible_list(inv: Inventory, show_secrets: bool = False) -> dict[str, Any]:
    """The inventory as ``ansible-inventory --list`` prints it: groups with their
    direct hosts and children (empty ones left out), host variables under ``_meta``."""
    out: dict[str, Any] = {}
    seen: set[str] = set()

    def visit(name: str) -> None:
        node = inv.tree[name]
        entry: dict[str, list[str]] = {}
        if name != "all" and node["hosts"]:
            entry["hosts"] = list(node["hosts"])
        if node["children"]:
            entry["children"] = list(node["children"])
        if entry:
            out[name] = entry
        for child in node["children"]:
            if child not in seen:
                seen.add(child)
                visit(child)

    visit("all")
    redact = redactor_for(inv)
    hostvars = {h.name: _as_listed(h.listed if show_secrets else redact.masked(h.listed)) for h in inv.hosts.values()
                if h.listed}
    return {"_meta": {"hostvars": hostvars}, **out}


def _key(key: Any) -> str:
    """A mapping key as JSON writes it: keys of other kinds than text (YAML
    ``1:``, ``null:``, a date) then sort together and a date is no error."""
    if isinstance(key, str):
        return key
    return json.dumps(key) if key is None or isinstance(key, bool | int | float) else str(key)


def _as_listed(data: Any) -> Any:
    """Values as ``ansible-inventory --list`` writes them: values a dynamic
    source reported as plain text (deploycheck marks them untrusted, see
    loader.untrusted), keys of other kinds than text as JSON writes them."""
    if isinstance(data, loader.Untrusted):
        return str.__str__(data)
    if isinstance(data, dict):
        return {_key(k): _as_listed(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_as_listed(v) for v in data]
    return data


def _reads_by_role() -> dict[str, set[str]]:
    """The variables each role's control files read (their ``READS``), found
    without importing them: by role named in the file's ``pytestmark``."""
    found: dict[str, set[str]] = {}
    for path in sorted(CONTROLS.glob("*/test_*.py")):
        module = ast.parse(path.read_text(encoding="utf-8"))
        names: set[str] = set()
        file_roles: set[str] = set()
        for stmt in module.body:
            if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name):
                values = [n.value for n in ast.walk(stmt.value) if isinstance(n, ast.Constant)]
                if stmt.targets[0].id == "READS":
                    names |= {str(v) for v in values}
                elif stmt.targets[0].id == "pytestmark":
                    file_roles |= {str(v) for v in values}
        for role in file_roles:
            found.setdefault(role, set()).update(names)
    return found


def expectations(inv: Inventory) -> dict[str, dict[str, str]]:
    """Per host, each value the controls of its roles read, with its source;
    values from the deployment's own variables are shown whatever reads them."""
    reads, redact = _reads_by_role(), redactor_for(inv)
    host_roles = {h.name: {r for r in inv.roles if h in inv.group(r)} for h in inv.hosts.values()}
    out: dict[str, dict[str, str]] = {}
    for host in inv.hosts.values():
        wanted = set().union(*(reads.get(r, set()) for r in host_roles[host.name]))
        lines: dict[str, str] = {}
        for name in sorted(VARIABLES):
            try:
                value, source = resolve(host, name)
            except RenderError as exc:
                lines[name] = redact(f"cannot be rendered ({exc})")
                continue
            required = host_roles[host.name] & set(VARIABLES[name].required_for)
            if name in wanted or required or source.startswith("deployment"):
                lines[name] = f"{json.dumps(redact.masked(value, name), cls=AnsibleJSONEncoder)}  ({source})"
        if host_roles[host.name]:
            out[host.name] = lines
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploycheck.inventory", description=__doc__.splitlines()[0])
    parser.add_argument("-i", "--inventory", action="append", required=True, help="inventory source (repeatable)")
    parser.add_argument("--playbook-dir", help="the deployment's playbook folder (its group_vars/, host_vars/)")
    parser.add_argument("--vault-password-file", help="password file for vaulted variables")
    parser.add_argument("--group", action="append", default=[], metavar="ROLE=GROUP", help="map a role to a group")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--list", action="store_true", help="the inventory as ansible-inventory --list shows it")
    mode.add_argument("--expectations", action="store_true", help="per host, each expectation and its source")
    parser.add_argument("--show-secrets", action="store_true", help="with --list: do not mask secrets")
    args = parser.parse_args(argv)
    try:
        inv = loader.load(args.inventory, args.playbook_dir, args.vault_password_file, render=not args.list)
        roles.assign(inv, roles.parse_overrides(args.group))
    except InventoryError as exc:
        print(f"deploycheck: {loader.one_line(exc)}", file=sys.stderr)
        return 2
    if args.list:
        print(json.dumps(ansible_list(inv, args.show_secrets), cls=AnsibleJSONEncoder, sort_keys=True, indent=4,
                         preprocess_unsafe=True,
                         ensure_ascii=False))
        return 0
    for role, group in inv.roles.items():
        print(f"# role {role}: group {group} ({', '.join(h.name for h in inv.group(role))})")
    for host, lines in expectations(inv).items():
        print(f"{host}:")
        for name, text in lines.items():
            print(f"  {name} = {text}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # the reader stopped early (| head): no traceback for it
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
