"""The hostile-input corpus's promise on a real run: templates written to
run code on the controller, placed in the reference IDR inventory, run
nothing, whether deploycheck reads them (the run stops at once, one line,
exit 2) or not (the run checks the stack as usual)."""

from __future__ import annotations

import copy
from pathlib import Path

from conftest import reference


def payload(marker: Path) -> str:
    return f"{{{{ lipsum.__globals__['os'].system('touch {marker}') }}}}"


def test_hostile_values_nobody_reads_leave_the_run_as_it_was(deploycheck, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    inventory = copy.deepcopy(reference("idr"))
    inventory["all"]["vars"]["site_motd"] = payload(marker)
    inventory["all"]["children"]["proxy"]["vars"]["banner_text"] = f"{{{{ site_motd }}}} {payload(marker)}"
    run = deploycheck(inventory, "-n", "2", "-q", "-k", "IDR-PROXY or IDR-CACHE")
    assert not marker.exists()
    assert run.rc == 0, run.output[-1500:]
    outcomes = {c["outcome"] for c in run.controls()}
    assert outcomes <= {"passed", "skipped"} and "passed" in outcomes, outcomes


def test_a_hostile_value_a_control_reads_stops_the_run_in_one_line(deploycheck, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    inventory = copy.deepcopy(reference("idr"))
    inventory["all"]["vars"]["session_cookie_name"] = payload(marker)
    run = deploycheck(inventory, "-n", "2", "-q")
    assert not marker.exists()
    assert run.rc == 2, run.output[-1500:]
    lines = run.output.strip().splitlines()
    assert len(lines) == 1 and "refused by deploycheck's template sandbox" in lines[0], lines
