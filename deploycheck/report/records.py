"""The run's records: controls.json (one record per control and host), and
summary.md rendered from the same records (deploycheck.report.markdown).
junit.xml is pytest's, with control test cases renamed by deploycheck.report.junit."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from deploycheck.report.files import private_dir, write_private
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
    write_private(path, json.dumps(payload, indent=2) + "\n")


def write_all(directory: Path, run: dict[str, Any], records: list[Record], step_summary: str | None = None) -> None:
    """Write controls.json and summary.md; with ``step_summary`` (the plugin
    passes ``$GITHUB_STEP_SUMMARY``) also append summary.md to that file."""
    private_dir(directory)
    write_json(directory / "controls.json", run, records)
    summary = summary_markdown(run, records)
    write_private(directory / "summary.md", summary)
    if step_summary:
        append_step_summary(step_summary, summary)
