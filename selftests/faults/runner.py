"""The fault matrix: proves every control can fail.

Each fault of the catalogue applies a real misconfiguration to the running
reference stack (inside its containers), runs the non-disruptive controls of
the files holding the controls it names, records which failed, and reverts. Writes ``reports/faults.json``; exits 1
when a fault is not caught by the controls it names or when a control has no
fault. ``--plan`` prints every fault's commands instead and touches nothing.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from deploycheck.catalogue import expected_module
from deploycheck.control import ID_PATTERN
from deploycheck.stack import STACKS, StackError, service_container, wait_ready
from selftests.faults.catalogue import CATALOGUE
from selftests.faults.steps import Container, Engine, Fault, Resolve, Service, Step

ROOT = Path(__file__).resolve().parents[2]
INVENTORIES = {"idr": "inventories/reference-idr.yml", "vidjil": "inventories/reference-vidjil.yml",
               "idr-candidate": "inventories/reference-idr-candidate.yml"}  # the new release, its baseline: idr


@dataclass
class Result:
    name: str
    description: str
    expected: list[str]
    failed: list[str]
    caught: bool
    collateral: list[str]
    seconds: float


def container_name(container: Container) -> str:
    """The container as the engine knows it; a service's is looked up at each step,
    since compose recreates it under a new name."""
    if isinstance(container, Service):
        return service_container(STACKS[container.stack], container.name)
    return container


def expand(fault: Fault, resolve: Resolve) -> list[tuple[str, list[str]]]:
    """Every command of a fault, in order: ("apply" | "revert" | "restart", argv)."""
    return [*[("apply", step.argv(resolve)) for step in fault.apply],
            *[("revert", step.argv(resolve)) for step in fault.revert_steps()],
            *[("restart", Engine("restart", c).argv(resolve)) for c in fault.restart_after]]


def selected(stack: str, only: list[str] | None) -> list[tuple[str, Fault]]:
    """(control id, fault) of one stack in catalogue order, limited to ``only`` names."""
    return [(key, fault) for key, faults in CATALOGUE[stack].items() for fault in faults
            if not only or fault.name in only]


def plan(stack: str, faults: list[tuple[str, Fault]]) -> list[str]:
    """What the matrix would run, with compose services left symbolic (``vidjil:nginx``)."""
    lines = []
    for key, fault in faults:
        extra = f"; pytest {shlex.join(fault.pytest_args)}" if fault.pytest_args else ""
        lines.append(f"{key} {fault.name} ({stack}): expects {' '.join(fault.expected)}{extra}")
        lines += [f"  {kind:8}{shlex.join(argv)}" for kind, argv in expand(fault, str)]
    return lines


def execute(step: Step, timeout: float = 90) -> None:
    argv = step.argv(container_name)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise StackError(f"'{shlex.join(argv)[:160]}' failed: {done.stderr.strip()[:200]}")


def control_files(control_ids: list[str]) -> list[str]:
    """The control files holding these controls (a fault runs only the files it must make fail)."""
    return sorted({f"tests/{expected_module(i).replace('.', '/')}.py" for i in control_ids})


def run_controls(inventory: str, reports: Path, extra: list[str] | None = None,
                 files: list[str] | None = None) -> list[str]:
    """Ids of the controls that failed or errored, on any host (of ``files`` only, when given)."""
    marks = [] if extra and "--allow-disruptive" in extra else ["-m", "not disruptive"]
    subprocess.run([sys.executable, "-m", "pytest", f"--inventory={inventory}", *marks, "-q", "-n", "2",
                    f"--reports-dir={reports}", *(extra or []), *(files or [])],
                   cwd=ROOT, capture_output=True, text=True, timeout=600)
    data = json.loads((reports / "controls.json").read_text())
    return sorted({c["id"] for c in data["controls"] if c["outcome"] in ("failed", "error")})


def all_control_ids(reports: Path) -> set[str]:
    """Controls that apply to this stack (skips for lack of hosts do not count)."""
    data = json.loads((reports / "controls.json").read_text())
    return {c["id"] for c in data["controls"] if ID_PATTERN.match(c["id"]) and c["host"] != "-"}


def run_fault(fault: Fault, stack: str, inventory: str, scratch: Path) -> Result:
    started = time.monotonic()
    print(f"[faults] {fault.name}: {fault.description}", flush=True)
    try:
        for step in fault.apply:
            execute(step)
        failed = run_controls(inventory, scratch / fault.name, fault.pytest_args, control_files(fault.expected))
    finally:
        for step in fault.revert_steps():
            execute(step)
        for container in fault.restart_after:
            subprocess.run(Engine("restart", container).argv(container_name), capture_output=True, timeout=120,
                           check=True)
        wait_ready(STACKS[stack], deadline_s=120)
    caught = set(fault.expected) <= set(failed)
    collateral = sorted(set(failed) - set(fault.expected))
    verdict = "caught" if caught else "NOT CAUGHT"
    print(f"[faults]   {verdict}: failed {failed or 'nothing'}"
          + (f" (collateral {collateral})" if collateral else ""), flush=True)
    return Result(fault.name, fault.description, list(fault.expected), failed, caught, collateral,
                  round(time.monotonic() - started, 2))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m selftests.faults", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", choices=[*INVENTORIES, "all"], default="all")
    parser.add_argument("--only", nargs="*", help="run only these faults")
    parser.add_argument("--out", default="reports/faults.json")
    parser.add_argument("--plan", action="store_true", help="print every fault's commands; touch no container")
    args = parser.parse_args(argv)
    stacks = list(INVENTORIES) if args.stack == "all" else [args.stack]
    if args.plan:
        for stack in stacks:
            for line in plan(stack, selected(stack, args.only)):
                print(line)
        return 0
    results: list[Result] = []
    control_ids: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="deploycheck-faults-") as tmp:
        scratch = Path(tmp)
        for stack in stacks:
            inventory = INVENTORIES[stack]
            faults = [fault for _, fault in selected(stack, args.only)]
            if not faults:
                continue
            baseline = run_controls(inventory, scratch / f"baseline-{stack}")
            disruptive = run_controls(inventory, scratch / f"disruptive-{stack}", ["--allow-disruptive", "-m",
                                                                                  "disruptive"])
            if baseline or disruptive:
                print(f"[faults] the healthy {stack} stack already fails {baseline + disruptive}; fix that first",
                      file=sys.stderr)
                return 1
            control_ids |= all_control_ids(scratch / f"baseline-{stack}")
            control_ids |= all_control_ids(scratch / f"disruptive-{stack}")
            results += [run_fault(f, stack, inventory, scratch) for f in faults]
            after = run_controls(inventory, scratch / f"after-{stack}")
            if after:
                print(f"[faults] reverting left the {stack} stack failing {after}", file=sys.stderr)
                return 1
    covered = {i for r in results if r.caught for i in r.expected}
    uncovered = sorted(control_ids - covered) if not args.only else []
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"faults": [asdict(r) for r in results], "controls_without_fault": uncovered},
                              indent=2) + "\n")
    missed = [r.name for r in results if not r.caught]
    caught = len(results) - len(missed)
    coverage = "partial run" if args.only else \
        f"{len(control_ids) - len(uncovered)}/{len(control_ids)} controls shown to fail"
    print(f"faults: {caught} caught, {len(missed)} missed of {len(results)}; {coverage}; wrote {out}")
    if uncovered:
        print(f"[faults] controls no fault makes fail: {uncovered}", file=sys.stderr)
    return 0 if not missed and not uncovered else 1
