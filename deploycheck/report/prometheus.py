"""The run's outcome in the Prometheus text format, for node_exporter's
textfile collector: run deploycheck from a timer between deploys and let
the monitoring that already watches the hosts alert on a stale backup or a
failed unit. Only ids, hosts, severities and counts are written, never a
message (messages quote what hosts answered)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Gauge, generate_latest

from deploycheck.report.files import write_atomic
from deploycheck.report.records import Record

LABELS = ("id", "host", "severity", "profile")
PASSED = ("passed", "waived")  # a waived failure is an accepted exception, as in the exit status
FAILED = ("failed", "error")
TEXTFILE_MODE = 0o644  # ids, hosts, severities and counts only


def profile_of(nodeid: str) -> str:
    """The controls' profile (idr, msir, omero, vidjil): the folder under tests/."""
    parts = nodeid.split("::", 1)[0].split("/")
    return parts[parts.index("tests") + 1] if "tests" in parts[:-2] else ""


def registry_of(run: dict[str, Any], records: list[Record]) -> CollectorRegistry:
    registry = CollectorRegistry()
    passed = Gauge("deploycheck_control_passed", "1 when the control passed (or its failure is waived) on the "
                   "host, 0 when it failed or could not check; skipped controls are in deploycheck_control_skipped",
                   LABELS, registry=registry)
    skipped = Gauge("deploycheck_control_skipped", "1 for a control skipped on the host (the reason is in "
                    "controls.json)", LABELS, registry=registry)
    for r in records:
        labels = (r.id, r.host, r.severity, profile_of(r.nodeid))
        if r.outcome in PASSED or r.outcome in FAILED:
            passed.labels(*labels).set(1 if r.outcome in PASSED else 0)
        else:
            skipped.labels(*labels).set(1)
    outcomes = Gauge("deploycheck_controls", "Controls by outcome in the last run", ("outcome",), registry=registry)
    for outcome in ("passed", "failed", "error", "skipped", "waived"):
        outcomes.labels(outcome).set(sum(1 for r in records if r.outcome == outcome))
    Gauge("deploycheck_run_duration_seconds", "Wall time of the last run", registry=registry).set(run["duration_s"])
    Gauge("deploycheck_run_timestamp_seconds", "When the last run ended (Unix time)",
          registry=registry).set(run["ended"])
    Gauge("deploycheck_run_exit_status", "The last run's exit status (0: every control passed)",
          registry=registry).set(run["exit_status"])
    return registry


def write_textfile(path: Path, run: dict[str, Any], records: list[Record]) -> None:
    """Written beside the target and renamed over it, so the collector never
    reads half a file and a symlink planted at the path is replaced, not
    followed; 0644, as node_exporter reads it as its own user."""
    write_atomic(path, generate_latest(registry_of(run, records)), TEXTFILE_MODE)
