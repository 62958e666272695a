"""Workers see the inventory exactly as the controller reads it.

pytest-xdist workers rebuild the hosts from what the controller sends
(deploycheck.inventory.shipped) instead of reading the inventory with
Ansible. Every value a control can read, every rendering error it can meet,
every secret the reports mask and every usage error must come out the same
on both sides, for every inventory shape the parity cases cover, vaulted
values with and without their password, and templates that need facts.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from deploycheck.inventory import loader, rendering, roles, shipped
from deploycheck.inventory.loader import Inventory, InventoryError, Node, RenderError
from deploycheck.inventory.variables import VARIABLES, resolve, validate
from deploycheck.report.redact import Redactor
from selftests.unit.test_ansible_parity import CASES
from selftests.unit.tmp_suite import run_tmp_suite

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "deploycheck-shipped-test-password"  # this test's own throwaway vault


def _outcome(call: Any) -> tuple[str, Any]:
    try:
        return "ok", call()
    except RenderError as exc:
        return "error", str(exc)


def _assigned(inv: Inventory) -> tuple[str, Any]:
    try:
        roles.assign(inv, {})
        return "ok", (inv.roles, validate(inv))
    except InventoryError as exc:
        return "error", str(exc)


def _view(inv: Inventory) -> dict[str, Any]:
    """Everything the controls and reports can read of an inventory."""
    view: dict[str, Any] = {"groups": inv.groups, "tree": inv.tree, "warnings": inv.warnings, "path": inv.path,
                            "roles": _assigned(inv), "secrets": Redactor.from_inventory(inv).secrets}
    for host in inv.hosts.values():
        view[host.name] = {
            "groups": host.groups, "address": host.address, "names": sorted(host.vars),
            "own": {name: _outcome(lambda h=host, n=name: h.render(n, h.vars[n])) for name in host.vars},
            "declared": {name: _outcome(lambda h=host, n=name: resolve(h, n)) for name in VARIABLES},
        }
    return view


def _shipped(inv: Inventory) -> tuple[Inventory, list[str]]:
    """Every variable of every host rendered, so that the comparison covers them all."""
    wire = shipped.ship(inv, Redactor.from_inventory(inv).secrets, {h.name: h.vars.keys() for h in inv.hosts.values()})
    assert wire is not None, "the inventory was not shipped"
    return shipped.received(wire)


def _same_both_sides(inv: Inventory) -> None:
    expected = _view(inv)
    got, secrets = _shipped(inv)
    assert secrets == expected["secrets"]
    view = _view(got)
    view["secrets"] = Redactor(secrets).secrets  # a worker masks what the controller sent
    assert view == expected


NOT_SHIPPED = {"values": "a YAML date"}  # cases with a value the workers' channel cannot carry


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_parity_case_reads_the_same_in_a_worker(case: str) -> None:
    sources, playbook_dir = CASES[case]
    inv = loader.load(list(sources), playbook_dir)
    if case in NOT_SHIPPED:
        assert shipped.ship(inv, []) is None
    else:
        _same_both_sides(inv)


def test_the_value_types_case_without_its_date_reads_the_same(tmp_path: Path) -> None:
    text = (ROOT / "selftests" / "unit" / "ansible_inventories" / "values.yml").read_text()
    assert "    release_date: 2024-03-01\n" in text
    (tmp_path / "values.yml").write_text(text.replace("    release_date: 2024-03-01\n", ""))
    _same_both_sides(loader.load([tmp_path / "values.yml"]))


def _vaulted(text: str) -> str:
    from ansible.parsing.vault import VaultLib, VaultSecret

    cipher = VaultLib([("default", VaultSecret(PASSWORD.encode()))]).encrypt(text).decode()
    return "!vault |\n" + textwrap.indent(cipher, " " * 8)


def _rich(tmp_path: Path) -> Path:
    """Templates over vaulted values, derived expectations, paths, facts that a run never has."""
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(textwrap.dedent("""\
        all:
          vars:
            idr_environment: prod
            db_password: {secret}
            omero_server_config_set:
              omero.db.name: "idr_{{{{ idr_environment }}}}"
              omero.db.pass: "{{{{ db_password }}}}"
            ms_config_file: conf/ms.yml
            backup_root: "{{{{ ansible_hostname }}}}/backups"
            note: {other}
          children:
            proxy: {{hosts: {{p1: {{ansible_host: 10.0.0.1}}}}}}
            omeroreadonly: {{hosts: {{ro1: {{}}, ro2: {{ms_unit: "{{{{ missing_var }}}}"}}}}}}
            database-hosts: {{hosts: {{db1: {{postgresql_version: "16"}}}}}}
        """).format(secret=_vaulted("s3cret-pass").replace("\n", "\n" + " " * 6),
                    other=_vaulted("vaulted-any-name").replace("\n", "\n" + " " * 6)))
    return inventory


def test_vaulted_templated_and_derived_values_with_the_password(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text(PASSWORD + "\n")
    inv = loader.load([_rich(tmp_path)], None, str(tmp_path / "pw"))
    view = _view(inv)
    assert view["ro1"]["own"]["db_password"] == ("ok", "s3cret-pass")
    assert "vaulted-any-name" in view["secrets"]
    assert view["ro2"]["own"]["ms_unit"][0] == "error"
    assert view["ro1"]["own"]["backup_root"][0] == "error"  # needs a fact no run gathers
    assert view["ro1"]["own"]["ms_config_file"] == ("ok", str(tmp_path / "conf/ms.yml"))
    _same_both_sides(inv)


@pytest.mark.parametrize("case", ["reference-idr", "reference-both", "idr-style", "example-production"])
def test_by_default_what_controls_read_is_rendered(case: str) -> None:
    """The controller renders only the declared variables of hosts with a
    role; every one of them resolves in a worker as on the controller."""
    sources, playbook_dir = CASES[case]
    inv = loader.load(list(sources), playbook_dir)
    roles.assign(inv, {})
    wire = shipped.ship(inv, Redactor.from_inventory(inv).secrets)
    assert wire is not None
    got, _ = shipped.received(wire)
    roles.assign(got, {})
    assert got.roles == inv.roles and validate(got) == validate(inv)
    readers = [h for role in inv.roles for h in inv.group(role)]
    assert readers
    for host in readers:
        mine = got.hosts[host.name]
        assert {n: _outcome(lambda h=mine, n=n: resolve(h, n)) for n in VARIABLES} == {
            n: _outcome(lambda h=host, n=n: resolve(h, n)) for n in VARIABLES}
    rendered = {name for item in wire["hosts"] for name in item["own"]}
    assert rendered <= set(VARIABLES)


def test_a_template_no_control_reads_is_not_rendered(tmp_path: Path) -> None:
    inventory = tmp_path / "hosts.yml"
    inventory.write_text('all:\n  children:\n    proxy:\n      hosts:\n        p1:\n'
                         '          mine: "{{ 1 + 1 }}"\n          expected_units: ["{{ \'nginx\' }}"]\n')
    inv = loader.load([inventory])
    roles.assign(inv, {})
    got, _ = shipped.received(shipped.ship(inv, []))
    host = got.hosts["p1"]
    assert resolve(host, "expected_units")[0] == ["nginx"]
    with pytest.raises(RenderError, match="did not render"):
        host.render("mine", host.vars["mine"])


def test_vaulted_values_without_the_password(tmp_path: Path) -> None:
    inv = loader.load([_rich(tmp_path)])
    assert _view(inv)["ro1"]["own"]["db_password"][0] == "error"
    _same_both_sides(inv)


def test_raw_vaulted_values_never_travel_encrypted_or_decrypted(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text(PASSWORD + "\n")
    got, _ = _shipped(loader.load([_rich(tmp_path)], None, str(tmp_path / "pw")))
    assert got.hosts["ro1"].vars["db_password"] == shipped.VAULTED
    assert got.hosts["ro1"].render("db_password", got.hosts["ro1"].vars["db_password"]) == "s3cret-pass"


def test_a_rendered_value_changed_by_one_control_is_not_changed_for_the_next(tmp_path: Path) -> None:
    got, _ = _shipped(loader.load([ROOT / "inventories" / "reference-idr.yml"]))
    host = next(h for h in got.hosts.values() if isinstance(h.vars.get("expected_units"), list))
    first = host.render("expected_units", host.vars["expected_units"])
    first.append("changed.service")
    assert "changed.service" not in host.render("expected_units", host.vars["expected_units"])


def test_a_value_that_cannot_travel_is_not_shipped(tmp_path: Path) -> None:
    """A YAML date is no plain value: the workers then read the inventory themselves."""
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all:\n  hosts:\n    h1:\n      since: 2024-01-02\n")
    assert shipped.ship(loader.load([inventory]), []) is None


def test_a_template_the_controller_did_not_render_is_an_error_not_its_text() -> None:
    rendered = rendering.Rendered({}, {})
    host = Node("h1", {"a": "x"}, [], {}, {}, None, None, rendered)
    with pytest.raises(RenderError, match="did not render"):
        host.render("a", "{{ other }}")
    assert host.render("a", "plain") == "plain"


PROBE = """import json, os, sys
import pytest
from deploycheck.inventory.loader import RenderError
from deploycheck.inventory.variables import resolve
from deploycheck.plugin import inventory_of

@pytest.mark.parametrize("name", ["public_url", "memo_regen_dir", "outside_address", "ms_unit", "expected_units"])
def test_read(request, name):
    host = inventory_of(request.config).hosts["d"]
    try:
        seen = ["ok", resolve(host, name)[0]]
    except RenderError as exc:
        seen = ["error", str(exc)]
    loaded = sum(1 for m in sys.modules if m == "ansible" or m.startswith("ansible."))
    with open(os.environ["PROBE_OUT"], "a") as out:
        out.write(json.dumps([os.environ.get("PYTEST_XDIST_WORKER", "none"), name, seen, loaded]) + "\\n")
"""


def test_workers_import_no_ansible_and_read_the_same(tmp_path: Path) -> None:
    """A real run with two workers resolves the same values and errors as
    one without workers, and no worker imported Ansible."""
    (tmp_path / "test_probe.py").write_text(PROBE)
    (tmp_path / "inv.yml").write_text(textwrap.dedent("""\
        all:
          vars: {env: prod, base: /srv}
          children:
            database:
              hosts:
                d:
                  ansible_connection: local
                  public_url: "https://{{ env }}.example.org"
                  memo_regen_dir: "{{ base }}/memo"
                  outside_address: "{{ ansible_hostname }}"
                  ms_unit: "{{ 'omero-ms' }}-image-region.service"
                  expected_units: ["{{ 'nginx' }}", cron]
        """))

    def run(*extra: str) -> list[list[Any]]:
        out = tmp_path / f"probe{len(extra)}.out"
        done = run_tmp_suite(tmp_path, tmp_path / "test_probe.py", tmp_path / "inv.yml", *extra,
                             env={"PROBE_OUT": str(out)})
        assert "5 passed" in done.stdout, done.stdout[-600:] + done.stderr[-600:]
        return [json.loads(line) for line in out.read_text().splitlines()]

    alone = run()
    workers = run("-n", "2")
    assert len(workers) == len(alone) == 5
    assert sorted(r[1:3] for r in workers) == sorted(r[1:3] for r in alone)
    assert {r[0] for r in workers} <= {"gw0", "gw1"}
    assert all(r[3] == 0 for r in workers), "a worker imported Ansible"
    assert all(r[3] > 0 for r in alone), "the probe cannot see Ansible's modules"
    assert ("error" in {r[2][0] for r in alone}) and ("ok" in {r[2][0] for r in alone})
