"""summary.md, the run's report a person reads in a CI job, and the one
Markdown table escaper of deploycheck (docs/controls.md uses it too).

summary.md is GitHub-flavoured Markdown. On GitHub Actions it is also appended
to ``$GITHUB_STEP_SUMMARY`` and shows as the job summary. GitLab has no job
summary file: publish summary.md as a job artifact (``artifacts:paths``, with
``expose_as`` to link it from the merge request), next to junit.xml as an
``artifacts:reports:junit`` report for the test tab.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from deploycheck.report.files import append_no_follow

if TYPE_CHECKING:
    from deploycheck.report.records import Record

OUTCOMES = ("passed", "failed", "error", "skipped", "waived")
SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}
MESSAGE_LIMIT = 300  # characters of a cell in summary.md; controls.json and junit.xml keep messages whole
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_<>\[\]|&~$])")  # GFM inline syntax and math


def cell(text: object, limit: int | None = None) -> str:
    """Text as one GFM table cell, rendered literally: whitespace runs (newlines
    included) become one space, so a cell never ends its row early; ``|`` and
    the characters that start emphasis, code, links, entities, HTML or math are
    backslash-escaped. Texts longer than ``limit`` are cut (summaries have size limits)."""
    flat = " ".join(str(text).split())
    if limit is not None and len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    return _MARKDOWN_SPECIAL.sub(r"\\\1", flat)


def table(head: Iterable[str], rows: Iterable[Iterable[str]]) -> list[str]:
    """GFM table lines; the cells must already be escaped with ``cell``."""
    head = list(head)
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    return out + ["| " + " | ".join(row) + " |" for row in rows]


def _cell(text: str) -> str:
    return cell(text, MESSAGE_LIMIT)


def _verdict(counts: dict[str, int]) -> str:
    """The one-line heading: the verdict first, then every count, problems first."""
    total = sum(counts.get(o, 0) for o in OUTCOMES)
    bad = counts.get("failed", 0) + counts.get("error", 0)
    if bad:
        head = "❌ deploycheck: FAILED"
    elif total:
        head = "✅ deploycheck: PASSED"
    else:
        head = "⚠️ deploycheck: no controls ran"
    tally = ", ".join(f"{counts.get(o, 0)} {o}" for o in ("failed", "error", "passed", "skipped", "waived"))
    return f"# {head} ({tally}; {total} controls)"


def summary_markdown(run: dict[str, Any], records: list[Record]) -> str:
    """GitHub-flavoured Markdown: a verdict heading, the failures and errors
    (most severe first), then every control and host as one table row."""
    lines = [
        _verdict(run["counts"]),
        "",
        f"Inventory {_cell(run['inventory'])} · {run['duration_s']:.1f} s",
        "",
    ]
    problems = sorted((r for r in records if r.outcome in ("failed", "error")),
                      key=lambda r: (SEVERITY_RANK.get(r.severity, 9), r.id, r.host))
    if problems:
        lines += ["## Needs attention", "", "| control | host | outcome | severity | title | message |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {_cell(r.id)} | {_cell(r.host)} | **{r.outcome}** | {r.severity} | {_cell(r.title)} "
                  f"| {_cell(r.message)} |" for r in problems]
        lines.append("")
    lines += ["## All controls", "", "| control | host | outcome | severity | title | s |", "|---|---|---|---|---|---|"]
    for r in sorted(records, key=lambda r: (r.id, r.host)):
        lines.append(f"| {_cell(r.id)} | {_cell(r.host)} | {r.outcome} | {r.severity} | {_cell(r.title)} "
                     f"| {r.duration_s:.2f} |")
    if "http_requests" in run:
        lines += ["", f"HTTP requests sent: {run['http_requests']}; remote commands per host: "
                  + (_cell(", ".join(f"{h} {n}" for h, n in run.get("remote_commands", {}).items())) or "none")]
    return "\n".join(lines) + "\n"


def append_step_summary(path: str, text: str) -> None:
    """Append the summary to GitHub's ``$GITHUB_STEP_SUMMARY`` file, which GitHub
    renders on the job's page (never through a symlink planted at that path).
    A failure to write is one line on stderr, never a failed run."""
    try:
        append_no_follow(path, text)
    except OSError as exc:
        sys.stderr.write(f"deploycheck: cannot write GITHUB_STEP_SUMMARY {path}: {exc}\n")
