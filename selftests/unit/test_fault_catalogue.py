"""The fault catalogue holds together without a stack: each fault breaks the
control it is filed under, names only real control ids, can be taken back,
and its plan (the exact commands) is the same every time and touches nothing."""

from __future__ import annotations

import subprocess

import pytest

from deploycheck.control import ID_PATTERN
from selftests.faults import runner
from selftests.faults.catalogue import CATALOGUE
from selftests.faults.steps import Edit, Fault, Run

FAULTS = [(stack, key, fault) for stack, by_id in CATALOGUE.items() for key, faults in by_id.items()
          for fault in faults]


def test_faults_are_filed_in_control_id_order() -> None:
    for stack, by_id in CATALOGUE.items():
        assert list(by_id) == sorted(by_id), f"{stack}: keys out of control id order"
        assert all(by_id.values()), f"{stack}: a control id with no fault"


@pytest.mark.parametrize(("stack", "key", "fault"), FAULTS, ids=[f.name for _, _, f in FAULTS])
def test_fault_breaks_its_key_and_names_real_ids(stack: str, key: str, fault: Fault) -> None:
    assert key in fault.expected
    bad = [i for i in fault.expected if not ID_PATTERN.match(i)]
    assert not bad, f"{fault.name}: not control ids: {bad}"
    assert len(set(fault.expected)) == len(fault.expected), f"{fault.name}: an id listed twice"


def test_fault_names_are_unique() -> None:
    names = [fault.name for _, _, fault in FAULTS]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


@pytest.mark.parametrize(("stack", "key", "fault"), FAULTS, ids=[f.name for _, _, f in FAULTS])
def test_fault_is_taken_back(stack: str, key: str, fault: Fault) -> None:
    assert fault.revert_steps() or fault.restart_after, f"{fault.name}: nothing reverts it"


def test_edits_change_something_sed_can_say() -> None:
    edits = [step for _, _, fault in FAULTS for step in fault.apply if isinstance(step, Edit)]
    assert edits
    for edit in edits:
        assert edit.old != edit.new, edit
        assert not any(c in text for text in (edit.old, edit.new, edit.path) for c in "%'"), edit
        assert edit.undo().undo() == edit


def test_a_step_without_derivable_undo_needs_a_revert() -> None:
    with pytest.raises(ValueError, match="no derivable undo"):
        Fault("x", "x", ["IDR-SYS-01"], apply=[Run("idr-proxy", "true")])


def test_plan_is_deterministic_and_touches_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"the plan ran a command: {args}")

    monkeypatch.setattr(subprocess, "run", refuse)
    monkeypatch.setattr(subprocess, "Popen", refuse)
    first = [runner.plan(stack, runner.selected(stack, None)) for stack in CATALOGUE]
    second = [runner.plan(stack, runner.selected(stack, None)) for stack in CATALOGUE]
    assert first == second
    text = "\n".join(line for lines in first for line in lines)
    assert all(fault.name in text for _, _, fault in FAULTS)
    assert "vidjil:nginx" in text  # compose services stay symbolic
