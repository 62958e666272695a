"""--wait-ready right after a deploy: restart a backend and run at once."""

from __future__ import annotations

import subprocess

import pytest

from conftest import reference
from deploycheck.stack import STACKS, wait_ready


@pytest.fixture
def restarted_backend():
    """Restart a read-only server (its services start from scratch); leave the stack ready."""
    subprocess.run(["docker", "restart", "-t", "5", "idr-omeroreadonly-1"], check=True, capture_output=True,
                   timeout=120)
    yield
    wait_ready(STACKS["idr"], deadline_s=180)


def test_run_right_after_restart_passes(deploycheck, restarted_backend) -> None:
    run = deploycheck(reference("idr"), "--wait-ready=180", "-k", "render_region_size or render_cached or "
                      "expected_units", "-p", "no:randomly")
    assert "[wait-ready]" in run.output and "- ready" in run.output, run.output[-1200:]
    assert run.rc == 0, run.output[-1200:]
