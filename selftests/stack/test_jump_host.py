"""The IDR reference stack as operators reach production (bench/remote.py):
every host over SSH, the inner ones through the proxy as a jump host, the
site through loopback relays. The default suite passes that way, with one
SSH login per host for the whole run (the workers ride the controller's
connections), as each host's sshd counts them."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.remote import accepted_logins, remote_idr

ROOT = Path(__file__).resolve().parents[2]


def _new_logins(before: dict[str, int], hosts: tuple[str, ...]) -> dict[str, int]:
    after = accepted_logins(hosts)
    return {host: after[host] - before[host] for host in hosts}


def test_default_suite_through_the_jump_host() -> None:
    with remote_idr(0.0) as remote, tempfile.TemporaryDirectory(prefix="deploycheck-jump-") as reports:
        before = accepted_logins(remote.ssh_hosts)
        done = subprocess.run([sys.executable, "-m", "pytest", f"--inventory={remote.inventory}", "-n", "2",
                               "-m", "not disruptive", "-q", "-p", "no:randomly", f"--reports-dir={reports}"],
                              cwd=ROOT, capture_output=True, text=True, timeout=600)
        logins = _new_logins(before, remote.ssh_hosts)
        data = json.loads((Path(reports) / "controls.json").read_text())
    bad = [(c["id"], c["host"], c["message"][:120]) for c in data["controls"] if c["outcome"] in ("failed", "error")]
    assert done.returncode == 0 and not bad, (done.stdout[-600:], bad)
    shells = data["run"].get("connections", {})
    assert {"idr-proxy", "idr-omeroreadonly-1", "idr-omeroreadwrite", "idr-database"} <= set(shells), shells
    assert all(count <= 1 for per_worker in shells.values() for count in per_worker.values()), shells
    assert logins == dict.fromkeys(remote.ssh_hosts, 1), logins


def test_sixteen_readonly_servers_through_the_jump_host() -> None:
    """Sixteen read-only servers (compose scale), each a full host behind the
    jump host: every one is checked, none is refused a connection (the jump
    host's sshd sees channels, not a burst of logins), and the suite passes."""
    from deploycheck import stack

    sixteen = tuple(f"idr-omeroreadonly-{i}" for i in range(1, 17))
    with stack.scaled_out("idr-ro16"), remote_idr(0.0, readonly=sixteen) as remote, \
            tempfile.TemporaryDirectory(prefix="deploycheck-scale-") as reports:
        before = accepted_logins(remote.ssh_hosts)
        done = subprocess.run([sys.executable, "-m", "pytest", f"--inventory={remote.inventory}", "-n", "2",
                               "-m", "not disruptive", "-q", f"--reports-dir={reports}"],
                              cwd=ROOT, capture_output=True, text=True, timeout=900)
        logins = _new_logins(before, remote.ssh_hosts)
        data = json.loads((Path(reports) / "controls.json").read_text())
    bad = [(c["id"], c["host"], c["message"][:120]) for c in data["controls"] if c["outcome"] in ("failed", "error")]
    assert done.returncode == 0 and not bad, (done.stdout[-600:], bad)
    checked = {c["host"] for c in data["controls"] if c["id"] == "IDR-SYS-01" and c["outcome"] == "passed"}
    assert set(sixteen) <= checked, sorted(set(sixteen) - checked)
    shells = data["run"].get("connections", {})
    assert all(count <= 1 for per_worker in shells.values() for count in per_worker.values()), shells
    assert logins == dict.fromkeys(remote.ssh_hosts, 1), logins
