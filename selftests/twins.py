"""``make twins``: the suite on the twins of the real systems as they ship,
its verdicts compared with those pinned in ``fixtures/<twin>/verdicts.yml``.

A twin reproduces a production deployment (facts from its own repository)
beside the reference stack that follows the administration docs. Every
control on it passes, or fails (or skips) as pinned, with the finding that
explains it: a true difference between the deployment and its docs. A
verdict that moves either way fails the check, so a suite defect cannot hide
among the findings. ``--markdown`` writes each twin's findings table into
``docs/``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
TWINS = {name: ROOT / "fixtures" / name / "verdicts.yml" for name in ("idr-shipped", "vidjil-shipped")}
OUTCOMES = ("failed", "skipped")


@dataclass(frozen=True)
class Pinned:
    control: str
    outcome: str  # failed | skipped
    hosts: tuple[str, ...]
    finding: str
    source: str


@dataclass(frozen=True)
class Twin:
    name: str
    title: str
    inventory: str
    playbook_dir: str | None
    pinned: dict[str, Pinned]
    doc: str = ""  # the findings table's file, below the project's root


def load(name: str) -> Twin:
    """The twin's pinned verdicts; a malformed file is a ValueError naming the entry."""
    data = yaml.safe_load(TWINS[name].read_text(encoding="utf-8"))
    pinned = {}
    for control, entry in (data.get("verdicts") or {}).items():
        if entry.get("outcome") not in OUTCOMES:
            raise ValueError(f"{control}: outcome must be one of {OUTCOMES}")
        if not str(entry.get("finding") or "").strip() or not str(entry.get("source") or "").strip():
            raise ValueError(f"{control}: a pinned verdict needs its finding and its source")
        pinned[control] = Pinned(control, entry["outcome"], tuple(sorted(entry.get("hosts") or [])),
                                 " ".join(str(entry["finding"]).split()), " ".join(str(entry["source"]).split()))
    return Twin(name, data["title"], data["inventory"], data.get("playbook_dir"), pinned, data.get("doc", ""))


def observed(records: list[dict]) -> dict[str, dict[str, list[str]]]:
    """control id -> outcome -> hosts (errors count as failures)."""
    out: dict[str, dict[str, list[str]]] = {}
    for record in records:
        outcome = "failed" if record["outcome"] == "error" else record["outcome"]
        out.setdefault(record["id"], {}).setdefault(outcome, []).append(record["host"])
    return out


def compare(twin: Twin, records: list[dict]) -> list[str]:
    """Every difference between the run and the pinned verdicts, one line each."""
    seen = observed(records)
    problems = []
    for control, outcomes in sorted(seen.items()):
        pin = twin.pinned.get(control)
        for outcome in OUTCOMES:
            hosts = tuple(sorted(outcomes.get(outcome, [])))
            want = pin.hosts if pin is not None and pin.outcome == outcome else ()
            if hosts != want:
                got = ", ".join(hosts) or "no host"
                problems.append(f"{control}: {outcome} on {got}; pinned: {outcome} on {', '.join(want) or 'no host'}")
                if outcome == "failed" and hosts:
                    messages = [r["message"] for r in records if r["id"] == control and r["outcome"] in
                                ("failed", "error")]
                    problems[-1] += f" ({messages[0][:200]})" if messages else ""
    for control in sorted(set(twin.pinned) - set(seen)):
        problems.append(f"{control}: pinned as {twin.pinned[control].outcome} but did not run")
    return problems


def run_suite(twin: Twin, reports: Path) -> list[dict]:
    cmd = [sys.executable, "-m", "pytest", f"--inventory={twin.inventory}", "-n", "auto", "-m", "not disruptive",
           "-q", "-p", "no:randomly", f"--reports-dir={reports}"]
    if twin.playbook_dir:
        cmd.append(f"--playbook-dir={twin.playbook_dir}")
    subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    path = reports / "controls.json"
    if not path.is_file():
        raise RuntimeError(f"the suite wrote no {path.name} (did it run?)")
    return json.loads(path.read_text())["controls"]


def markdown(twin: Twin) -> str:
    """The findings table published in docs/."""
    lines = [f"# {twin.title}", "",
             f"The suite's verdicts on `fixtures/{twin.name}`, the twin of the deployment as it ships, pinned in "
             f"`fixtures/{twin.name}/verdicts.yml` and checked by `make twins` (part of `make test`). Every other "
             "control passes on the twin. Each row is a finding: a true difference between the deployment and "
             "its administration docs, with the source it was read from.", "",
             "| control | verdict | hosts | finding | source |", "|---|---|---|---|---|"]
    for pin in sorted(twin.pinned.values(), key=lambda p: p.control):
        cells = [pin.control, pin.outcome, ", ".join(pin.hosts), pin.finding, pin.source]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m selftests.twins", description=__doc__.splitlines()[0])
    parser.add_argument("twin", nargs="?", default="all", choices=[*sorted(TWINS), "all"])
    parser.add_argument("--markdown", action="store_true", help="write each twin's findings table into docs/")
    parser.add_argument("--keep", action="store_true", help="leave the twin running afterwards")
    args = parser.parse_args(argv)
    names = sorted(TWINS) if args.twin == "all" else [args.twin]
    if args.markdown:
        for name in names:
            twin = load(name)
            (ROOT / twin.doc).write_text(markdown(twin), encoding="utf-8")
            print(f"wrote {twin.doc}")
        return 0
    return max(check(name, args.keep) for name in names)


def check(name: str, keep: bool) -> int:
    """Start the twin, run the suite, compare; 0 when every verdict is as pinned."""
    try:
        twin = load(name)
    except (ValueError, KeyError, yaml.YAMLError) as exc:
        print(f"twins: {TWINS[name].name}: {exc}", file=sys.stderr)
        return 2
    from deploycheck import stack

    spec = stack.STACKS[twin.name]
    try:
        stack.up(spec)
        with tempfile.TemporaryDirectory(prefix="deploycheck-twin-") as tmp:
            records = run_suite(twin, Path(tmp))
    except (stack.StackError, RuntimeError, subprocess.TimeoutExpired) as exc:
        print(f"twins: {twin.name}: {exc}", file=sys.stderr)
        return 1
    finally:
        if not keep:
            stack.down(spec, volumes=True)
    problems = compare(twin, records)
    failed = sum(1 for r in records if r["outcome"] in ("failed", "error"))
    print(f"[twins] {twin.name}: {len(records)} control records, {failed} failed, {len(twin.pinned)} pinned verdicts")
    for line in problems:
        print(f"[twins] {twin.name}: {line}")
    return 1 if problems else 0

if __name__ == "__main__":
    sys.exit(main())
