"""The run's records: controls.json (one record per control and host), and
summary.md rendered from the same records (deploycheck.report.markdown).
junit.xml is pytest's, with control test cases renamed by deploycheck.report.junit."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from deploycheck.report.markdown import append_step_summary, summary_markdown


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


def write_all(directory: Path, run: dict[str, Any], records: list[Record], step_summary: str | None = None) -> None:
    """Write controls.json and summary.md; with ``step_summary`` (the plugin
    passes ``$GITHUB_STEP_SUMMARY``) also append summary.md to that file."""
    directory.mkdir(parents=True, exist_ok=True)
    write_json(directory / "controls.json", run, records)
    summary = summary_markdown(run, records)
    (directory / "summary.md").write_text(summary, encoding="utf-8")
    if step_summary:
        append_step_summary(step_summary, summary)
