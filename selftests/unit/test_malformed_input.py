"""Malformed and unbounded inventories: refused when they load, with one
line and exit status 2, fast and in bounded memory; nothing is expanded to be
measured."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from deploycheck.inventory import connection, loader, preflight, shipped
from deploycheck.inventory.__main__ import ansible_list
from deploycheck.inventory.loader import InventoryError, Node

ROOT = Path(__file__).resolve().parents[2]
LOCAL = "{ansible_connection: local}"


def _laughs(levels: int, width: int = 10, indent: str = "    ") -> str:
    """A variable of ``width ** levels`` values written in a few lines."""
    lines = [f"{indent}l0: &l0 [{', '.join(['x'] * width)}]"]
    lines += [f"{indent}l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * width)}]" for n in range(1, levels)]
    return "\n".join(lines) + "\n"


def _children_bomb(levels: int) -> str:
    """Groups whose children alias the level below: Ansible alone would parse 2 ** levels groups."""
    lines = ["all:", "  children:", "    g0: &g0", f"      hosts: {{h: {LOCAL}}}"]
    for n in range(1, levels):
        lines += [f"    g{n}: &g{n}", f"      children: {{a{n}: *g{n - 1}, b{n}: *g{n - 1}}}"]
    return "\n".join(lines) + "\n"


def _shared_group_var(hosts: int) -> str:
    """One group variable of 9 ** 4 values (within the bound of one variable) on every host."""
    return ("all:\n  vars:\n" + _laughs(5, 9) + "  hosts:\n"
            + "".join(f"    h{n}: {LOCAL}\n" for n in range(hosts)))


def _host(**values: object) -> str:
    return "all:\n  hosts:\n    h: " + yaml.safe_dump({"ansible_connection": "local", **values},
                                                       default_flow_style=True)


CLI_CASES = {
    "children-alias-bomb": ({"inv.yml": _children_bomb(40)}, "inv.yml: expands to more than"),
    "group-var-on-many-hosts": ({"inv.yml": _shared_group_var(1000)}, "the hosts' variables add up to more than"),
    "alias-bomb-in-group-vars": ({"inv.yml": f"all:\n  hosts:\n    h: {LOCAL}\n",
                                  "group_vars/all.yml": "big:\n" + _laughs(12, 10, "  ")},
                                 "all.yml: expands to more than"),
    "alias-bomb-in-host-vars": ({"inv.ini": "h ansible_connection=local\n",
                                 "host_vars/h/main.yaml": "big:\n" + _laughs(12, 10, "  ")},
                                "main.yaml: expands to more than"),
    "alias-inside-itself": ({"inv.yml": f"all:\n  hosts:\n    h: {LOCAL}\n  vars:\n    a: &a [1, *a]\n"},
                            "the YAML alias *a is inside the node it names"),
    "non-text-variable-names": ({"inv.yml": f"all:\n  vars: {{1: a, true: b, null: c}}\n  hosts:\n    h: {LOCAL}\n"},
                                "h: variable name"),
    "non-text-host-variable-name": ({"inv.yml": "all:\n  hosts:\n    h: {ansible_connection: local, 7: x}\n"},
                                    "h: variable name 7 is a YAML int, not text"),
    "unbalanced-ssh-common-args": ({"inv.yml": _host(ansible_ssh_common_args='-o "ProxyCommand=x')},
                                   "h: ansible_ssh_common_args cannot be split into arguments (No closing quotation)"),
    "unbalanced-ssh-extra-args": ({"inv.yml": _host(ansible_ssh_extra_args="-o 'x")},
                                  "h: ansible_ssh_extra_args cannot be split into arguments"),
    "word-timeout": ({"inv.yml": _host(ansible_timeout="soon")}, "h: ansible_timeout 'soon' is not a whole number"),
    "fractional-timeout": ({"inv.yml": _host(ansible_timeout=2.5)}, "h: ansible_timeout '2.5' is not a whole number"),
    "zero-timeout": ({"inv.yml": _host(ansible_timeout=0)}, "h: ansible_timeout '0' is not a whole number"),
    "null-timeout": ({"inv.yml": _host(ansible_timeout=None)}, "h: ansible_timeout 'None' is not a whole number"),
    "port-too-high": ({"inv.yml": _host(ansible_port=65536)}, "h: ansible_port '65536' is not a port number"),
    "port-zero": ({"inv.ini": "h ansible_connection=local ansible_port=0\n"}, "h: ansible_port '0' is not a port"),
    "port-as-word": ({"inv.yml": _host(ansible_port="ssh")}, "h: ansible_port 'ssh' is not a port number"),
    "port-as-boolean": ({"inv.yml": _host(ansible_port=True)}, "h: ansible_port 'True' is not a port number"),
    "long-port-quoted-short": ({"inv.yml": _host(ansible_port="9" * 500)}, f"ansible_port '{'9' * 80}' is not"),
}


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1536 << 20, 1536 << 20))


def _write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder / next(iter(files))


def _list(*args: str, mode: str = "--list") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "deploycheck.inventory", *args, mode], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, preexec_fn=_limit_memory)


def _mode(case: str) -> str:
    """Connection variables are checked when an inventory is read to be used
    (--expectations, a run); --list shows them as ansible-inventory does."""
    return "--expectations" if any(word in case for word in ("ssh", "timeout", "port")) else "--list"


@pytest.mark.parametrize("case", sorted(CLI_CASES))
def test_refused_with_one_line_fast(tmp_path: Path, case: str) -> None:
    files, message = CLI_CASES[case]
    done = _list("-i", str(_write(tmp_path, files)), mode=_mode(case))
    lines = done.stderr.splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr[-800:]
    assert lines[0].startswith("deploycheck: ") and message in lines[0], lines[0]


def test_group_vars_beside_the_playbooks_are_bounded(tmp_path: Path) -> None:
    inv = _write(tmp_path / "inventory", {"inv.yml": f"all:\n  hosts:\n    h: {LOCAL}\n"})
    _write(tmp_path / "playbooks", {"group_vars/all/x.yml": "big:\n" + _laughs(12, 10, "  ")})
    done = _list("-i", str(inv), "--playbook-dir", str(tmp_path / "playbooks"))
    assert done.returncode == 2 and "x.yml: expands to more than" in done.stderr, done.stderr[-800:]


def test_a_folder_source_is_bounded_file_by_file(tmp_path: Path) -> None:
    _write(tmp_path / "inv", {"a.yml": f"all:\n  hosts:\n    h: {LOCAL}\n", "sub/b.yaml": _children_bomb(40)})
    with pytest.raises(InventoryError, match=r"b\.yaml: expands to more than"):
        loader.load([tmp_path / "inv"])


def test_a_large_group_var_on_a_few_hosts_loads_and_lists(tmp_path: Path) -> None:
    """9 ** 5 values shared by 20 hosts is within the total: each shared part is counted, not walked, per host."""
    inv = loader.load([_write(tmp_path, {"inv.yml": _shared_group_var(20)})])
    assert len(inv.hosts) == 20 and len(ansible_list(inv)["_meta"]["hostvars"]["h3"]["l4"]) == 9


def test_the_size_of_a_billion_laughs_is_counted_not_expanded() -> None:
    text = "a:\n" + _laughs(30, 10, "  ")  # 10 ** 30 values
    with pytest.raises(preflight.ExpansionError, match="more than 1000 values"):
        preflight.expanded_size(text, 1000)
    assert preflight.expanded_size("a: &a [1, 2]\nb: [*a, *a]\n", 100) == 1 + 2 * 1 + 3 + 1 + 3 * 2


def test_an_undefined_alias_is_left_to_the_yaml_reader() -> None:
    assert preflight.expanded_size("a: *nowhere\nb: [1, 2]\n", 100) < 100


@pytest.mark.parametrize(("name", "data"), [
    ("vaulted.yml", b"$ANSIBLE_VAULT;1.1;AES256\n6162\n"),
    ("latin1.yml", "a: caf\xe9 *x &y\n".encode("latin-1")),
    ("broken.yml", b"a: [x\n"),
    ("hosts.ini", b"[g]\nh a=&x *x\n"),
])
def test_files_that_are_not_plain_yaml_are_left_to_ansible(tmp_path: Path, name: str, data: bytes) -> None:
    (tmp_path / name).write_bytes(data)
    preflight.check_files([tmp_path / name])


def test_inventory_scripts_are_not_read(tmp_path: Path) -> None:
    script = _write(tmp_path, {"inv": "#!/bin/sh\n" + _children_bomb(40)})
    script.chmod(0o755)
    assert preflight.files([script]) == []


def test_a_file_past_the_size_bound_is_refused_unread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(preflight, "MAX_FILE_BYTES", 1 << 20)
    _write(tmp_path, {"inv.yml": f"all:\n  hosts:\n    h: {LOCAL}\n", "group_vars/all.yml": "a: " + "x" * (1 << 20)})
    with pytest.raises(InventoryError, match=r"all\.yml: larger than 1 MiB"):
        loader.load([tmp_path / "inv.yml"])


def test_a_value_inside_itself_counts_as_too_large() -> None:
    cycle: list[object] = [1]
    cycle.append({"again": cycle})
    assert preflight._size(cycle, {}, 50) == 51
    shared = list(range(10))
    memo: dict[int, int] = {}
    assert preflight._size([shared, shared, {"s": shared}], memo, 100) == 1 + 11 + 11 + 12
    assert memo[id(shared)] == 11


def test_hosts_sharing_a_variable_are_measured_without_walking_it_per_host() -> None:
    big = [[str(n)] * 1000 for n in range(90)]  # 90,091 values: within one variable's bound
    hosts = [Node(f"h{n}", {"big": big}) for n in range(25)]
    with pytest.raises(InventoryError, match="the hosts' variables add up to more than 2000000 values"):
        preflight.check_hosts(hosts, "inv.yml")
    preflight.check_hosts(hosts[:22], "inv.yml")


def test_nested_keys_that_are_not_text_are_listed_and_shipped(tmp_path: Path) -> None:
    """Inside a value, keys of any kind are kept as Ansible keeps them: --list writes them as JSON
    does, and the inventory travels to the workers."""
    inv = loader.load([_write(tmp_path, {"inv.yml": _host(d={1: "a", None: "c", "x": [{1.5: "e"}]})})])
    assert ansible_list(inv)["_meta"]["hostvars"]["h"]["d"] == {"1": "a", "null": "c", "x": [{"1.5": "e"}]}
    done = _list("-i", str(tmp_path / "inv.yml"))
    assert done.returncode == 0 and '"null": "c"' in done.stdout, done.stderr[-800:]
    wire = shipped.ship(inv, [], {"h": inv.hosts["h"].vars.keys()})
    assert wire is not None
    got, _ = shipped.received(wire)
    assert got.hosts["h"].render("d", got.hosts["h"].vars["d"]) == {"1": "a", "None": "c", "x": [{"1.5": "e"}]}


@pytest.mark.parametrize(("values", "fine"), [
    ({"ansible_port": 22, "ansible_timeout": 30}, True),
    ({"ansible_port": "2222", "ansible_timeout": "5"}, True),
    ({"ansible_port": None}, True),
    ({"ansible_ssh_common_args": "-o 'ProxyCommand=ssh -W %h:%p j'", "ansible_ssh_extra_args": None}, True),
    ({"ansible_port": " 22"}, False),
    ({"ansible_port": -1}, False),
    ({"ansible_timeout": False}, False),
    ({"ansible_timeout": "\u0663"}, False),  # a digit to Python's int(), not to ssh
    ({"ansible_ssh_extra_args": '"'}, False),
])
def test_connection_variables(values: dict[str, object], fine: bool) -> None:
    host = Node("h", dict(values))
    if fine:
        connection.check_connection_vars(host)
        assert connection.Ssh.options(host)
    else:
        with pytest.raises(InventoryError, match="^h: ansible_"):
            connection.check_connection_vars(host)


def test_folders_are_walked_as_ansible_reads_them(tmp_path: Path) -> None:
    """Hidden names and backups are skipped (Ansible skips them), linked folders are followed, a link loop ends."""
    inv = _write(tmp_path / "inv", {"a.yml": "", ".hidden.yml": "", "b.yml~": "", ".git/config": "",
                                    "group_vars/all/x.yaml": "", "hosts.ini": ""})
    _write(tmp_path / "elsewhere", {"y.yml": ""})
    (tmp_path / "inv" / "group_vars" / "linked").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "elsewhere" / "loop").symlink_to(tmp_path / "elsewhere")
    found = [p.relative_to(tmp_path / "inv").as_posix() for p in preflight.files([inv.parent])]
    assert found == ["a.yml", "group_vars/all/x.yaml", "group_vars/linked/y.yml"]
    assert preflight.files([tmp_path / "inv" / ".hidden.yml"])[0] == tmp_path / "inv" / ".hidden.yml"  # named: read
