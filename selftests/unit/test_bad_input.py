"""Bad input on the command line: one clear line on stderr and exit status 2;
a run that checked nothing is not green."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DB = "all:\n  children:\n    database:\n      hosts: {d: {ansible_connection: local"
CASES = {
    "empty": ("inv.yml", "", "the inventory has no hosts"),
    "not-yaml": ("inv.yml", "all: [x\n", "Completely failed to parse"),
    "ini-syntax": ("hosts.ini", "[proxy\np\n", "Completely failed to parse"),
    "failing-script": ("inv.sh", "#!/bin/sh\necho broken >&2\nexit 3\n", "Completely failed to parse"),
    "missing-variable": ("inv.yml", "all:\n  children:\n    proxy:\n      hosts: {p: }\n",
                         "variable public_url is not set for p (group proxy)"),
    "unknown-connection": ("inv.yml", "all:\n  children:\n    database:\n      hosts: {d: {ansible_connection: "
                           "winrm}}\n", "ansible_connection 'winrm' is not supported"),
    "missing-key-file": ("inv.yml", "all:\n  children:\n    database:\n      hosts: {d: {ansible_ssh_private_key_file: "
                         "no.key}}\n", "is not a file"),
    "wrong-kind": ("inv.yml", DB + ", expected_units: postgresql}}\n",
                   "variable expected_units of d is a string; expected a list"),
    "hostile-unit-name": ("inv.yml", DB + ", expected_units: ['postgresql; touch /tmp/x']}}\n",
                          "variable expected_units of d holds 'postgresql; touch /tmp/x', not a systemd unit name"),
    "path-as-find-expression": ("inv.yml", DB + ", pg_dump_dir: '-delete'}}\n",
                                "variable pg_dump_dir of d holds '-delete', not an absolute path"),
    "relative-data-mount": ("inv.yml", DB + ", data_mounts: ['/data', 'data']}}\n",
                            "variable data_mounts of d holds 'data', not an absolute path"),
    "address-as-option": ("inv.yml", DB + ", outside_address: '-x proxy'}}\n",
                          "variable outside_address of d holds '-x proxy', not a host name or address"),
    "non-text-variable-name": ("inv.yml", DB + ", 1: a}}\n", "d: variable name 1 is a YAML int, not text"),
    "unsplittable-ssh-args": ("inv.yml", DB + ", ansible_ssh_extra_args: '-o \"x'}}\n",
                              "d: ansible_ssh_extra_args cannot be split into arguments"),
    "unrenderable-connection": ("inv.yml", DB + ", ansible_user: '{{ ansible_env.USER }}'}}\n",
                                "d: variable ansible_user cannot be rendered"),
    "vaulted-without-password": ("inv.yml", "all:\n  hosts:\n    d:\n      ansible_connection: local\n"
                                 "      pg_data_dir: !vault |\n        $ANSIBLE_VAULT;1.1;AES256\n"
                                 "        6162636465666768\n  children:\n    database:\n      hosts: {d: }\n",
                                 "d: variable pg_data_dir cannot be rendered"),
}


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", *args, f"--reports-dir={tmp_path / 'reports'}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_inventory(tmp_path: Path, case: str) -> None:
    name, text, message = CASES[case]
    inv = tmp_path / name
    inv.write_text(text)
    if name.endswith(".sh"):
        inv.chmod(0o755)
    done = _run(tmp_path, f"--inventory={inv}")
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    if case == "vaulted-without-password":  # a value only some controls read: they fail, the run goes on
        assert done.returncode == 1, done.stdout[-600:] + done.stderr[-400:]
        records = json.loads((tmp_path / "reports" / "controls.json").read_text())["controls"]
        assert [r["outcome"] for r in records if r["id"] == "IDR-DB-01"] == ["error"], records
        assert any(message in r["message"] for r in records if r["id"] == "IDR-DB-01"), records
        return
    assert done.returncode == 2, done.stdout[-400:] + done.stderr[-400:]
    assert len(lines) == 1 and message in lines[0], done.stderr


def test_missing_inventory_file(tmp_path: Path) -> None:
    done = _run(tmp_path, f"--inventory={tmp_path / 'none.yml'}")
    assert done.returncode == 2 and "inventory file not found" in done.stderr


def test_unknown_role_mapping(tmp_path: Path) -> None:
    inv = tmp_path / "hosts.ini"
    inv.write_text("[web-front]\nw ansible_connection=local\n")
    done = _run(tmp_path, f"--inventory={inv}", "--group=webserver=web-front")
    assert done.returncode == 2 and "unknown role 'webserver'" in done.stderr, done.stderr


def test_a_run_that_checks_nothing_is_not_green(tmp_path: Path) -> None:
    """Groups no role uses are fine, but when nothing is left to check the run says so and fails."""
    inv = tmp_path / "hosts.ini"
    inv.write_text("[web-front]\nw ansible_connection=local\n")
    done = _run(tmp_path, f"--inventory={inv}")
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 5, done.stdout[-800:] + done.stderr[-400:]
    assert len(lines) == 1 and "no control ran" in lines[0] and "--group ROLE=GROUP" in lines[0], done.stderr


@pytest.mark.parametrize(("value", "message"), [
    ("ftp://idr.example.org", "neither an http(s) URL nor an inventory"),
    ("http://", "no host in the URL"),
    ("/nonexistent/inventory.yml", "neither an http(s) URL nor an inventory"),
    ("{inventory_without_proxy}", "has no proxy host to take public_url from"),
])
def test_bad_baseline(tmp_path: Path, value: str, message: str) -> None:
    inv = tmp_path / "inv.yml"
    inv.write_text(DB + "}}\n")
    other = tmp_path / "other.yml"
    other.write_text(DB + "}}\n")
    done = _run(tmp_path, f"--inventory={inv}", f"--baseline={value.format(inventory_without_proxy=other)}")
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2 and len(lines) == 1 and message in lines[0], done.stderr[-400:]


@pytest.mark.parametrize(("name", "message"), [("out.txt", "must end in .prom"),
                                               ("missing/x.prom", "is not a folder we can write to")])
def test_bad_prometheus_textfile(tmp_path: Path, name: str, message: str) -> None:
    inv = tmp_path / "inv.yml"
    inv.write_text(DB + "}}\n")
    done = _run(tmp_path, f"--inventory={inv}", f"--prometheus-textfile={tmp_path / name}")
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2 and len(lines) == 1 and message in lines[0], done.stderr[-400:]
