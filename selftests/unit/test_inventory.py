"""Inventory parsing follows Ansible's YAML inventory rules."""

from __future__ import annotations

import pytest

from deploycheck.inventory.loader import InventoryError, expand_pattern, load, parse

NESTED = """
all:
  vars: {level: all, only_all: 1}
  children:
    omero:
      vars: {level: omero}
      children:
        omeroreadonly:
          hosts:
            ro[1:3]:
          vars: {level: readonly}
        omeroreadwrite:
          hosts:
            rw: {level: host}
    database:
      hosts:
        db:
"""


def test_children_groups_and_precedence() -> None:
    inv = parse(NESTED)
    assert list(inv.hosts) == ["ro1", "ro2", "ro3", "rw", "db"]
    assert inv.groups["omero"] == ["ro1", "ro2", "ro3", "rw"]
    assert inv.hosts["ro2"].vars["level"] == "readonly"
    assert inv.hosts["rw"].vars["level"] == "host"
    assert inv.hosts["db"].vars == {"level": "all", "only_all": 1}
    assert inv.hosts["ro1"].groups == ["omero", "omeroreadonly"]


@pytest.mark.parametrize(("pattern", "expected"), [
    ("web[01:03]", ["web01", "web02", "web03"]),
    ("ro[1:5:2]", ["ro1", "ro3", "ro5"]),
    ("db-[a:c]", ["db-a", "db-b", "db-c"]),
    ("plain", ["plain"]),
    ("r[1:2]-[a:b]", ["r1-a", "r1-b", "r2-a", "r2-b"]),
])
def test_host_ranges(pattern: str, expected: list[str]) -> None:
    assert expand_pattern(pattern) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("", "the inventory is empty"),
    ("- a\n- b\n", "an inventory is a mapping of groups"),
    ("all: [unclosed", "not valid YAML"),
    ("all:\n  children:\n    proxy:\n      hostz: {}\n", "unknown key(s) ['hostz']"),
    ("all:\n  children:\n    proxy: {}\n", "the inventory has no hosts"),
    ("all:\n  hosts:\n    h[3:1]:\n", "empty host range"),
    ("all:\n  hosts: {h: }\n  children:\n    proxy:\n", "group(s) proxy have no hosts"),
])
def test_bad_inventories_give_one_line(text: str, message: str) -> None:
    with pytest.raises(InventoryError) as err:
        parse(text, "inv.yml")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_file(tmp_path) -> None:
    with pytest.raises(InventoryError, match="inventory file not found"):
        load(tmp_path / "missing.yml")


def test_reference_inventory_has_every_group() -> None:
    inv = load("inventories/reference-idr.yml")
    for group in ("proxy", "omeroreadonly", "omeroreadwrite", "database"):
        assert inv.group(group), group


def test_merge_combines_inventories_later_wins() -> None:
    from deploycheck.inventory.loader import merge

    a = parse("all:\n  vars: {x: 1}\n  children:\n    proxy: {hosts: {p: {y: a}}}\n", "a.yml")
    b = parse("all:\n  children:\n    proxy: {hosts: {p: {y: b}}}\n    vidjil: {hosts: {v: }}\n", "b.yml")
    inv = merge([a, b])
    assert inv.group("proxy")[0].vars == {"x": 1, "y": "b"}
    assert [h.name for h in inv.group("vidjil")] == ["v"]
    assert inv.path == "a.yml,b.yml"


def test_file_variables_resolve_against_the_inventory(tmp_path) -> None:
    inv_file = tmp_path / "sub" / "inv.yml"
    inv_file.parent.mkdir()
    inv_file.write_text("all:\n  hosts:\n    h: {tls_ca_file: ../ca.crt, other: ../x}\n")
    host = load(inv_file).hosts["h"]
    assert host.vars["tls_ca_file"] == str(tmp_path / "ca.crt")
    assert host.vars["other"] == "../x"
