"""An interrupt in the middle of the maintenance control still restores the flag."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

FLAG = "/srv/www/omero-maintenance.flag"


def flag_exists() -> bool:
    return subprocess.run(["docker", "exec", "idr-proxy", "test", "-e", FLAG], timeout=30).returncode == 0


def test_interrupted_maintenance_control_restores_the_flag(tmp_path: Path) -> None:
    assert not flag_exists(), "the flag is set before the test; the stack is not healthy"
    mark = tmp_path / "mark"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent), "DC_INTERRUPT_MARK": str(mark)}
    done = subprocess.run([sys.executable, "-m", "pytest", "--inventory=inventories/reference-idr.yml",
                           f"--reports-dir={tmp_path}", "--allow-disruptive", "-p", "interrupt_plugin",
                           "-k", "maintenance_page", "-n", "0"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert "KeyboardInterrupt" in output, output[-1500:]
    assert mark.read_text() == "flag-set", "the interrupt came before the control set the flag"
    assert done.returncode == 2, f"exit {done.returncode}: {output[-800:]}"
    assert not flag_exists(), "the interrupted run left the maintenance flag behind"
