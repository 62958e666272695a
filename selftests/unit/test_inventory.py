"""Inventories through Ansible's loader: roles found by the deployment's own
group names, values rendered as Ansible renders them, expectations taken from
the deployment's own variables, bad input as one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploycheck.inventory import roles
from deploycheck.inventory.loader import Inventory, InventoryError, RenderError, load
from deploycheck.inventory.variables import expect, resolve, validate

ROOT = Path(__file__).resolve().parents[2]
EDGE = Path(__file__).resolve().parent / "ansible_inventories"
IDR_STYLE = ROOT / "inventories" / "idr-style"


def _load(*sources: Path, playbook_dir: Path | None = None, overrides: tuple[str, ...] = ()) -> Inventory:
    inv = load(list(sources), playbook_dir)
    roles.assign(inv, roles.parse_overrides(overrides))
    return inv


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_idr_group_names_are_roles() -> None:
    inv = _load(IDR_STYLE / "hosts", playbook_dir=IDR_STYLE / "ansible")
    assert inv.roles == {"proxy": "proxy-hosts", "omeroreadonly": "omeroreadonly-hosts",
                         "omeroreadwrite": "omeroreadwrite-hosts", "database": "database-hosts"}
    assert [h.name for h in inv.group("omeroreadonly")] == ["idr-omeroreadonly-1"]
    assert validate(inv) == []


def test_expectations_come_from_the_deployments_variables() -> None:
    inv = _load(IDR_STYLE / "hosts", playbook_dir=IDR_STYLE / "ansible")
    proxy, db = inv.group("proxy")[0], inv.group("database")[0]
    assert resolve(proxy, "cachebuster_port") == (9000, "deployment variable nginx_proxy_cachebuster_port of idr-proxy")
    value, source = resolve(proxy, "session_cookie_name")  # a template, kept on the OMERO hosts
    assert value == "sessionid_idr" and "omero_web_config_set of idr-omeroreadonly-1" in source
    assert expect(db, "pg_data_dir") == "/var/lib/pgsql/15/data"
    assert expect(db, "readonly_statement_timeout_s") == [1.0, 1.0]
    assert resolve(db, "db_user") == ("omero", "default")


def test_deploycheck_variables_win(tmp_path: Path) -> None:
    inv = _load(_write(tmp_path, "hosts.ini", "[proxy-hosts]\np cachebuster_port=9100 "
                                              "nginx_proxy_cachebuster_port=9000 public_url=http://x\n"))
    assert resolve(inv.group("proxy")[0], "cachebuster_port") == (9100, "deploycheck variable")


def test_any_naming_maps_with_one_setting(tmp_path: Path) -> None:
    source = _write(tmp_path, "hosts.ini", "[web-front]\nw public_url=http://x\n[pg]\nd\n")
    assert _load(source).roles == {}
    assert _load(source, overrides=("proxy=web-front", "database=pg")).roles == {"proxy": "web-front",
                                                                                 "database": "pg"}
    mapped = _write(tmp_path, "mapped.yml", "all:\n  vars: {deploycheck_groups: {proxy: web-front}}\n"
                                            "  children:\n    web-front: {hosts: {w: {public_url: 'http://x'}}}\n")
    assert _load(mapped).roles == {"proxy": "web-front"}


@pytest.mark.parametrize(("overrides", "message"), [
    (("proxy",), "expected ROLE=GROUP"),
    (("webserver=web-front",), "unknown role 'webserver'"),
    (("proxy=nowhere",), "mapped to group 'nowhere', which the inventory does not have"),
])
def test_bad_mapping_is_one_line(tmp_path: Path, overrides: tuple[str, ...], message: str) -> None:
    with pytest.raises(InventoryError, match=message) as err:
        _load(_write(tmp_path, "hosts.ini", "[web-front]\nw\n"), overrides=overrides)
    assert "\n" not in str(err.value)


def test_values_render_as_ansible_renders_them() -> None:
    host = _load(EDGE / "templated.yml").hosts["t1"]
    assert host.render("cookie", host.vars["cookie"]) == "sessionid_test"
    assert host.render("nested", host.vars["nested"]) == {"path": "/srv/data", "list": ["/srv", 2]}
    with pytest.raises(RenderError, match="t1: variable needs_facts cannot be rendered: .*ansible_hostname"):
        host.render("needs_facts", host.vars["needs_facts"])


def test_lookups_never_run(tmp_path: Path) -> None:
    """An inventory value never runs a command on the controller."""
    marker = tmp_path / "ran"
    text = f"all:\n  hosts:\n    h: {{x: \"{{{{ lookup('pipe', 'touch {marker}') }}}}\"}}\n"
    host = _load(_write(tmp_path, "inv.yml", text)).hosts["h"]
    with pytest.raises(RenderError, match="lookups were disabled"):
        host.render("x", host.vars["x"])
    assert not marker.exists()


def test_unrenderable_connection_variable_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match="h: variable ansible_host cannot be rendered"):
        load([_write(tmp_path, "inv.yml", "all:\n  hosts:\n    h: {ansible_host: '{{ ansible_default_ipv4.address }}'}"
                                          "\n")])


def test_file_variables_resolve_against_the_inventory(tmp_path: Path) -> None:
    source = _write(tmp_path, "sub/inv.yml", "all:\n  hosts:\n    h: {tls_ca_file: ../ca.crt, other: ../x}\n")
    host = load([source]).hosts["h"]
    assert Path(host.render("tls_ca_file", host.vars["tls_ca_file"])).resolve() == tmp_path / "ca.crt"
    assert host.render("other", host.vars["other"]) == "../x"


def test_empty_groups_and_unknown_groups_are_the_deployments_business(tmp_path: Path) -> None:
    inv = _load(_write(tmp_path, "hosts.ini", "[monitoring]\nm\n[database-hosts]\n[proxy]\np public_url=http://x\n"))
    assert validate(inv) == [] and inv.group("database") == [] and inv.roles == {"proxy": "proxy"}


@pytest.mark.parametrize(("name", "text", "message"), [
    ("bad.ini", "[proxy\nhost\n", "Completely failed to parse"),
    ("empty.yml", "", "the inventory has no hosts"),
    ("dash.yml", "all:\n  hosts:\n    h: {ansible_host: '-oProxyCommand=x'}\n", "starts with '-'"),
])
def test_bad_inventories_give_one_line(tmp_path: Path, name: str, text: str, message: str) -> None:
    with pytest.raises(InventoryError, match=message) as err:
        load([_write(tmp_path, name, text)])
    assert "\n" not in str(err.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match="inventory file not found"):
        load([tmp_path / "missing.yml"])


def test_exposure_probes_the_public_address(tmp_path: Path) -> None:
    """The proxy is probed where the public reaches it (public_url's host),
    not at ansible_host, a private address; a declared outside_address wins;
    inner hosts keep their inventory address; a loopback URL says nothing."""
    from deploycheck.facts.probe import public_address

    text = ("all:\n  vars: {public_url: 'https://idr.example.org'}\n  children:\n"
            "    proxy: {hosts: {p1: {ansible_host: 10.0.0.5}}}\n"
            "    database: {hosts: {db1: {ansible_host: 10.0.0.9}}}\n"
            "    omeroreadonly: {hosts: {ro1: {ansible_host: 10.0.0.7, outside_address: 192.0.2.7}}}\n")
    inv = _load(_write(tmp_path, "inv.yml", text))
    assert public_address(inv.group("proxy")[0]) == "idr.example.org"
    assert public_address(inv.group("database")[0]) == "10.0.0.9"
    assert public_address(inv.group("omeroreadonly")[0]) == "192.0.2.7"
    loop = _load(_write(tmp_path, "loop.yml", text.replace("https://idr.example.org", "http://127.0.0.1:18080")))
    assert public_address(loop.group("proxy")[0]) == "10.0.0.5"


def test_a_deployment_path_that_is_no_absolute_path_never_reaches_a_command(tmp_path: Path) -> None:
    """A path read from the deployment's own variables is checked like one set
    for deploycheck: "-delete" is refused, never handed to find."""
    inv = _load(_write(tmp_path, "hosts.ini", "[omeroreadwrite]\nrw omero_server_datadir=-delete\n"))
    with pytest.raises(RenderError, match="omero_data_dir of rw holds '-delete', not an absolute path"):
        expect(inv.group("omeroreadwrite")[0], "omero_data_dir")
