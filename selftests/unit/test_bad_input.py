"""Bad input on the command line: one clear line on stderr and exit status 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CASES = {
    "empty": ("", "the inventory is empty"),
    "not-yaml": ("all: [x\n", "not valid YAML"),
    "unknown-group": ("all:\n  children:\n    proxies:\n      hosts: {p: {public_url: 'http://x'}}\n",
                      "unknown group(s) proxies"),
    "missing-variable": ("all:\n  children:\n    proxy:\n      hosts: {p: }\n", "variable public_url is not set for p"),
    "empty-group": ("all:\n  children:\n    proxy: {hosts: {p: {public_url: 'http://x'}}}\n    database:\n",
                    "group(s) database have no hosts"),
    "unknown-connection": ("all:\n  children:\n    database:\n      hosts: {d: {ansible_connection: winrm}}\n",
                           "ansible_connection 'winrm' is not supported"),
    "missing-key-file": ("all:\n  children:\n    database:\n      hosts: {d: {ansible_ssh_private_key_file: no.key}}\n",
                         "is not a file"),
    "wrong-kind": ("all:\n  children:\n    database:\n      hosts: {d: {ansible_connection: local, "
                   "expected_units: postgresql}}\n", "variable expected_units of d is a string; expected a list"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_inventory(tmp_path: Path, case: str) -> None:
    text, message = CASES[case]
    inv = tmp_path / "inv.yml"
    inv.write_text(text)
    done = subprocess.run([sys.executable, "-m", "pytest", f"--inventory={inv}", f"--reports-dir={tmp_path}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stdout[-400:] + done.stderr[-400:]
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], done.stderr


def test_missing_inventory_file(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "pytest", f"--inventory={tmp_path / 'none.yml'}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "inventory file not found" in done.stderr
