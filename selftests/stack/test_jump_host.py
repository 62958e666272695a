"""The IDR reference stack as operators reach production (bench/remote.py):
every host over SSH, the inner ones through the proxy as a jump host, the
site through loopback relays. The default suite passes that way, with one
SSH connection per host per worker."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.remote import remote_idr

ROOT = Path(__file__).resolve().parents[2]


def test_default_suite_through_the_jump_host() -> None:
    with remote_idr(0.0) as remote, tempfile.TemporaryDirectory(prefix="deploycheck-jump-") as reports:
        done = subprocess.run([sys.executable, "-m", "pytest", f"--inventory={remote.inventory}", "-n", "2",
                               "-m", "not disruptive", "-q", "-p", "no:randomly", f"--reports-dir={reports}"],
                              cwd=ROOT, capture_output=True, text=True, timeout=600)
        data = json.loads((Path(reports) / "controls.json").read_text())
    bad = [(c["id"], c["host"], c["message"][:120]) for c in data["controls"] if c["outcome"] in ("failed", "error")]
    assert done.returncode == 0 and not bad, (done.stdout[-600:], bad)
    shells = data["run"].get("connections", {})
    assert {"idr-proxy", "idr-omeroreadonly-1", "idr-omeroreadwrite", "idr-database"} <= set(shells), shells
    assert all(count <= 1 for per_worker in shells.values() for count in per_worker.values()), shells
