"""The run's reports: controls.json (one record per control and host) and
summary.md (a table a person reads in a CI job). junit.xml is pytest's."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

OUTCOMES = ("passed", "failed", "error", "skipped", "waived")


@dataclass
class Record:
    id: str
    title: str
    severity: str
    ref: str
    host: str
    outcome: str
    duration_s: float
    message: str
    nodeid: str


def write_json(path: Path, run: dict[str, Any], records: list[Record]) -> None:
    payload = {"run": run, "controls": [asdict(r) for r in records]}
    path.write_text(json.dumps(payload, indent=2) + "\n")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


def summary_markdown(run: dict[str, Any], records: list[Record]) -> str:
    counts = run["counts"]
    lines = [
        "# deploycheck summary",
        "",
        f"Inventory `{run['inventory']}` · {run['duration_s']:.1f} s · "
        + " · ".join(f"{counts.get(o, 0)} {o}" for o in OUTCOMES),
        "",
    ]
    problems = [r for r in records if r.outcome in ("failed", "error")]
    if problems:
        lines += ["## Needs attention", "", "| control | host | outcome | severity | title | message |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {r.id} | {r.host} | **{r.outcome}** | {r.severity} | {_cell(r.title)} | {_cell(r.message)} |"
                  for r in problems]
        lines.append("")
    lines += ["## All controls", "", "| control | host | outcome | severity | title | s |", "|---|---|---|---|---|---|"]
    for r in sorted(records, key=lambda r: (r.id, r.host)):
        lines.append(f"| {r.id} | {r.host} | {r.outcome} | {r.severity} | {_cell(r.title)} | {r.duration_s:.2f} |")
    if "http_requests" in run:
        lines += ["", f"HTTP requests sent: {run['http_requests']}; remote commands per host: "
                  + ", ".join(f"{h} {n}" for h, n in run.get("remote_commands", {}).items())]
    return "\n".join(lines) + "\n"


def write_all(directory: Path, run: dict[str, Any], records: list[Record]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    write_json(directory / "controls.json", run, records)
    (directory / "summary.md").write_text(summary_markdown(run, records))
