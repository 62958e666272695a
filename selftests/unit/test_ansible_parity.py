"""deploycheck sees exactly what ``ansible-inventory --list`` sees.

Operators write one inventory for Ansible and deploycheck; if the two read it
differently, deploycheck would check other hosts, or other settings, than the
ones Ansible deploys. Each case here goes through the real
``ansible-inventory --list`` and through ``python -m deploycheck.inventory
--list --show-secrets``, in the same folder and environment, and the two JSON
documents (groups, their hosts and children, every host's variables) must be
equal. The cases cover the shapes real inventories take: INI with
``:children``/``:vars`` and inline typed values, YAML, TOML, a folder mixing
INI and YAML, ``group_vars``/``host_vars`` as files and as folders, beside the
inventory and beside the playbooks, empty groups, a vaulted vars file, a
``constructed`` plugin config, templated values, several sources combined.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EDGE = Path(__file__).resolve().parent / "ansible_inventories"
# Not resolved: the venv's bin/python is a symlink, and its bin dir is the one that holds ansible-inventory.
BIN = Path(sys.executable).parent
TIMEOUT_S = 60
VAULT_PASSWORD = "deploycheck-test-vault-password"  # a password for this test's own throwaway vault

Case = tuple[tuple[Path, ...], Path | None]  # sources, playbook dir
CASES: dict[str, Case] = {
    **{p.stem: ((p,), None) for p in sorted(EDGE.glob("*.yml"))},
    "merged": ((EDGE / "merge-1-base.yml", EDGE / "merge-2-override.yml"), None),
    "ini": ((EDGE / "ini" / "hosts.ini",), None),
    "folder-ini-yaml-group-vars": ((EDGE / "dir-mix",), None),
    "folder-and-playbook-dir": ((EDGE / "dir-mix",), EDGE / "playbook"),
    "constructed": ((EDGE / "constructed",), None),
    "toml": ((EDGE / "toml" / "hosts.toml",), None),
    "reference-idr": ((ROOT / "inventories" / "reference-idr.yml",), None),
    "reference-both": ((ROOT / "inventories" / "reference-idr.yml", ROOT / "inventories" / "reference-vidjil.yml"),
                       None),
    "example-production": ((ROOT / "inventories" / "example-production.yml",), None),
    "idr-style": ((ROOT / "inventories" / "idr-style" / "hosts",), ROOT / "inventories" / "idr-style" / "ansible"),
}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], Path]:
    """No user configuration, nothing written outside a tmp folder, the same for both tools."""
    home = tmp_path_factory.mktemp("ansible")
    (home / "ansible.cfg").write_text("")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    clean.update({"ANSIBLE_CONFIG": str(home / "ansible.cfg"), "ANSIBLE_HOME": str(home / "home"),
                  "ANSIBLE_LOCAL_TEMP": str(home / "tmp"), "ANSIBLE_NOCOLOR": "true"})
    return clean, home


def _run(argv: list[str], env: tuple[dict[str, str], Path]) -> dict[str, Any]:
    done = subprocess.run(argv, cwd=env[1], env=env[0], capture_output=True, text=True, timeout=TIMEOUT_S)
    assert done.returncode == 0, f"{' '.join(argv)} (rc {done.returncode}):\n{done.stderr[-1500:]}"
    return json.loads(done.stdout)


def _both(sources: tuple[Path, ...], playbook_dir: Path | None, env: tuple[dict[str, str], Path],
          extra: tuple[str, ...] = ()) -> tuple[dict[str, Any], dict[str, Any]]:
    args = [a for s in sources for a in ("-i", str(s))] + (["--playbook-dir", str(playbook_dir)]
                                                           if playbook_dir else []) + list(extra)
    ansible = _run([str(BIN / "ansible-inventory"), *args, "--list"], env)
    ours = _run([sys.executable, "-m", "deploycheck.inventory", *args, "--list", "--show-secrets"], env)
    return ansible, ours


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_inventory_as_ansible(case: str, env: tuple[dict[str, str], Path]) -> None:
    sources, playbook_dir = CASES[case]
    ansible, ours = _both(sources, playbook_dir, env)
    assert ours == ansible
    assert ansible["_meta"]["hostvars"] or any(k != "_meta" for k in ansible), "the case lists nothing"


def test_vaulted_vars_file(tmp_path: Path, env: tuple[dict[str, str], Path]) -> None:
    """A vars file encrypted with ansible-vault reads the same with the password file."""
    (tmp_path / "group_vars" / "database-hosts").mkdir(parents=True)
    (tmp_path / "hosts.ini").write_text("[database-hosts]\ndb1\n")
    secret = tmp_path / "group_vars" / "database-hosts" / "vault.yml"
    secret.write_text("vault_db_password: s3cret-from-vault\npostgresql_version: '16'\n")
    password = tmp_path / "vault-password"
    password.write_text(VAULT_PASSWORD + "\n")
    encrypt = subprocess.run([str(BIN / "ansible-vault"), "encrypt", "--vault-password-file", str(password),
                              str(secret)], env=env[0], cwd=env[1], capture_output=True, text=True, timeout=TIMEOUT_S)
    assert encrypt.returncode == 0, encrypt.stderr
    assert "s3cret-from-vault" not in secret.read_text()
    ansible, ours = _both((tmp_path / "hosts.ini",), None, env, ("--vault-password-file", str(password)))
    assert ours == ansible
    assert ours["_meta"]["hostvars"]["db1"]["vault_db_password"] == "s3cret-from-vault"
