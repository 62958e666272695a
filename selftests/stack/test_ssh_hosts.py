"""A host reached over SSH, as production hosts are: the reference proxy's
real sshd (published on 127.0.0.1), a key made for the test, host key checked."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import reference

PROXY = "idr-proxy"
SSH_PORT = 18022  # fixtures/idr/docker-compose.yml: 127.0.0.1:${IDR_SSH_PORT:-18022}:22


def _exec(script: str, stdin: str = "") -> str:
    done = subprocess.run(["docker", "exec", "-i", PROXY, "sh", "-c", script], input=stdin, capture_output=True,
                          text=True, timeout=30, check=True)
    return done.stdout


@pytest.fixture
def ssh_access(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Root's authorized_keys on the proxy gets a fresh key for the test and
    is put back as it was afterwards."""
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "deploycheck-selftest", "-f", str(key)],
                   check=True, timeout=30)
    host_key = _exec("cat /etc/ssh/ssh_host_ed25519_key.pub").split()[:2]
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{SSH_PORT} {' '.join(host_key)}\n")
    before = _exec("cat /root/.ssh/authorized_keys 2>/dev/null || true")
    _exec("mkdir -p /root/.ssh && chmod 700 /root/.ssh && cat >> /root/.ssh/authorized_keys && "
          "chmod 600 /root/.ssh/authorized_keys", stdin=key.with_suffix(".pub").read_text())
    try:
        # ansible_host is the published port's address; the outside vantage point still probes the proxy by name
        yield {"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": SSH_PORT,
               "outside_address": PROXY,
               "ansible_user": "root", "ansible_ssh_private_key_file": str(key),
               "ansible_ssh_common_args": f"-o UserKnownHostsFile={known} -o StrictHostKeyChecking=yes"}
    finally:
        _exec("cat > /root/.ssh/authorized_keys", stdin=before)


def _accepted_since(since: str) -> int:
    out = _exec(f"journalctl -u ssh --since '{since}' --no-pager -o cat | grep -c 'Accepted publickey' || true")
    return int(out.strip() or 0)


def test_proxy_over_ssh_one_connection(deploycheck, ssh_access: dict[str, str]) -> None:
    """The default suite passes with the proxy reached over SSH; its shell and
    every command share one SSH connection per worker at most."""
    inv = reference("idr")
    inv["all"]["children"]["proxy"]["hosts"][PROXY] = ssh_access
    since = _exec("date '+%Y-%m-%d %H:%M:%S'").strip()
    time.sleep(1)  # journalctl --since has one-second resolution
    run = deploycheck(inv, "-n", "2")
    assert run.rc == 0, run.output[-1500:]
    report = json.loads((run.reports / "controls.json").read_text())["run"]
    ran = report["remote_commands"].get(PROXY, 0) + report["prefetched_commands"].get(PROXY, 0)  # controls', ahead
    assert ran >= 20, (report["remote_commands"], report["prefetched_commands"])
    per_worker = report["connections"].get(PROXY, {})
    assert per_worker and max(per_worker.values()) == 1, per_worker
    accepted = _accepted_since(since)
    assert 1 <= accepted <= len(per_worker), f"sshd accepted {accepted} logins for {len(per_worker)} worker(s)"


def test_unknown_host_key_is_refused(deploycheck, ssh_access: dict[str, str], tmp_path: Path) -> None:
    """A host key that does not match what the operator trusts: the host's
    controls error with one line naming the host; nothing is run there."""
    wrong = tmp_path / "wrong_known_hosts"
    wrong.write_text(f"[127.0.0.1]:{SSH_PORT} ssh-ed25519 "
                     "AAAAC3NzaC1lZDI1NTE5AAAAIFhQ2v0Kk0nmS6bH7O0z3sRrVxq3c2m0b0l6i9o7uWbQ\n")
    inv = reference("idr")
    inv["all"]["children"]["proxy"]["hosts"][PROXY] = {
        **ssh_access, "ansible_ssh_common_args": f"-o UserKnownHostsFile={wrong} -o StrictHostKeyChecking=yes"}
    run = deploycheck(inv, "tests/idr/test_maint.py")
    assert run.rc == 1, run.output[-800:]
    mine = [c for c in run.controls() if c["host"] == PROXY]
    assert mine and all(c["outcome"] == "error" for c in mine), [(c["id"], c["outcome"]) for c in mine]
    assert all(PROXY in c["message"] and "host key" in c["message"].lower() for c in mine), \
        [c["message"] for c in mine]
