"""The run recorder: turns each control's pytest report into one record per
control and host (outcome, one-line message, waiver, cost), in the worker
that ran it and then in the controlling process, which writes the reports.

Workers attach what they know to ``report.user_properties`` (xdist sends those
to the controlling process); the recorder there collects and writes them."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Generator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypedDict, cast

import pytest

from deploycheck.control import NOTE_KEY, Control
from deploycheck.inventory.loader import Inventory
from deploycheck.inventory.roles import ROLES as ROLE_NAMES
from deploycheck.report import junit, printable, prometheus, waivers
from deploycheck.report.files import ReportsFolderError
from deploycheck.report.records import Record, write_all
from deploycheck.report.redact import Redactor
from deploycheck.transport.counters import COUNTERS, RunCounters

LINK_KINDS = ("connections", "tunnels")  # shells and relays opened, by host and worker


class OutcomeProperties(TypedDict):
    """One control's outcome on one host as a worker sends it: what the
    controlling process needs to write its record."""

    id: str
    title: str
    severity: str
    ref: str
    host: str
    kind: str
    message: str


class WorkerProperties(TypedDict, total=False):
    """A report's user properties by name: pytest keeps them as untyped
    pairs, and these are the ones attach_cost, attach_outcome and control.note add."""

    deploycheck: OutcomeProperties
    deploycheck_note: str
    deploycheck_commands: dict[str, int]  # host -> remote commands
    deploycheck_process: dict[str, dict[str, int]]  # "round_trips"/"prefetched" -> host -> count
    deploycheck_links: tuple[str, dict[str, dict[str, int]]]  # worker, LINK_KINDS -> host -> count
    deploycheck_requests: int


def redact_report(redact: Redactor | None, report: pytest.TestReport) -> None:
    """Inventory secrets never reach the terminal, junit.xml or logs, even with -vv:
    tracebacks, captured output and captured log lines (testinfra logs commands) are masked."""
    if redact is None or not redact.active:
        return
    if report.longrepr is not None and not isinstance(report.longrepr, tuple):
        text = str(report.longrepr)
        if redact(text) != text:
            report.longrepr = redact(text)
    report.sections = [(name, redact(content)) for name, content in report.sections]


def escape_report(report: pytest.TestReport, coloured: bool = False) -> None:
    """Control characters (a host name's, a host's answer's) reach the terminal
    and junit.xml escaped: tracebacks, skip reasons and captured output. With a
    ``coloured`` terminal, pytest colours its assertion explanations: those
    colour sequences are kept."""
    if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
        path, lineno, reason = report.longrepr
        report.longrepr = (path, lineno, printable.lines(reason))
    elif report.longrepr is not None:
        text = report.longreprtext  # without the colours only the terminal adds
        if printable.lines(text, coloured) != text:
            report.longrepr = printable.lines(text, coloured)
    report.sections = [(name, printable.lines(content)) for name, content in report.sections]


def attach_cost(report: pytest.TestReport, cost: RunCounters, process: RunCounters) -> None:
    """A control's remote commands, connections and HTTP requests, sent with
    its teardown report; with them, the process's round trips and commands
    asked ahead since its previous report (they belong to no one control)."""
    report.user_properties.append(("deploycheck_commands", dict(cost.commands)))
    report.user_properties.append(("deploycheck_process", {"round_trips": dict(process.round_trips),
                                                           "prefetched": dict(process.prefetched)}))
    # connections are the process's: the warm-up opens them before and beside the controls
    report.user_properties.append(("deploycheck_links", (os.environ.get("PYTEST_XDIST_WORKER", "main"),
                                                         process.links())))
    report.user_properties.append(("deploycheck_requests", cost.http_requests))


def attach_outcome(report: pytest.TestReport, call: pytest.CallInfo[None], meta: Control, host_name: str,
                   waiver_list: list[waivers.Waiver], redact: Redactor | None) -> None:
    """The control's metadata, outcome kind and one-line message; a waived failure becomes a skip."""
    kind = ""
    if report.failed:
        failed_assert = call.excinfo is not None and call.excinfo.errisinstance(AssertionError)
        kind = "failed" if report.when == "call" and failed_assert else "error"
    message = ""
    if call.excinfo is not None and not report.skipped:
        text = str(call.excinfo.value).strip() or call.excinfo.typename
        message = text.split("\nassert ")[0].strip()
        if kind == "error" and call.excinfo.typename != "Failed":  # pytest.fail's text stands alone
            message = f"{call.excinfo.typename}: {message}"
        if kind == "error" and host_name != "-" and host_name not in message:
            message = f"{host_name}: {message}"
        message = " ".join(message.split("\n")[0].split()) if kind == "error" else message
    if report.failed:
        waiver = waivers.find(waiver_list, meta.id, host_name)
        if waiver is not None and waiver.expired(date.today()):
            message += f" (waiver expired on {waiver.expires.isoformat()})"
        elif waiver is not None:
            kind = "waived"
            message += f" [waived until {waiver.expires.isoformat()}: {waiver.justification}]"
            report.outcome = "skipped"
            report.wasxfail = f"waived: {waiver.justification}"
    elif report.skipped and isinstance(report.longrepr, tuple):
        message = str(report.longrepr[2]).removeprefix("Skipped: ")
    elif report.passed and report.when == "call":  # a pass that needed no check says why (control.note)
        message = "; ".join(str(v) for k, v in report.user_properties if k == NOTE_KEY)
    outcome = OutcomeProperties(id=meta.id, title=meta.title, severity=meta.severity, ref=meta.ref,
                                host=printable.text(host_name), kind=kind,  # where host names and messages enter
                                message=printable.lines(redact(message) if redact else message))
    report.user_properties.append(("deploycheck", outcome))


def _by_host(counts: dict[str, Any]) -> dict[str, Any]:
    """Counts keyed by host name, sorted, the names as reports show them."""
    return {printable.text(host): value for host, value in sorted(counts.items())}


class RunRecorder:
    """Collects one record per control and host in the controlling process
    (xdist workers send their reports here) and writes the reports."""

    def __init__(self, config: pytest.Config, redact: Redactor, inventory: Inventory | None = None) -> None:
        self.config = config
        self.inventory = inventory
        self.started = time.time()
        self.redact = redact
        self.records: dict[str, Record] = {}
        self.commands: dict[str, int] = {}
        self.links: dict[str, dict[str, dict[str, int]]] = {kind: {} for kind in LINK_KINDS}  # kind->host->worker
        self.requests = 0
        self.process: dict[str, dict[str, int]] = {"round_trips": {}, "prefetched": {}}  # kind -> host -> count

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        props_all = cast(WorkerProperties, dict(report.user_properties))
        for host, n in props_all.get("deploycheck_commands", {}).items():
            self.commands[host] = self.commands.get(host, 0) + n
        self.requests += int(props_all.get("deploycheck_requests", 0))
        for kind, by_host in props_all.get("deploycheck_process", {}).items():
            for host, n in by_host.items():
                self.process[kind][host] = self.process[kind].get(host, 0) + n
        worker, opened = props_all.get("deploycheck_links", ("main", {}))
        for kind, by_host in opened.items():
            for host, n in by_host.items():
                per_worker = self.links[kind].setdefault(host, {})
                per_worker[worker] = per_worker.get(worker, 0) + n
        props = props_all.get("deploycheck")
        if props is None or not (report.when == "call" or report.failed or report.skipped):
            return
        if props["kind"] == "waived":
            outcome = "waived"
        else:
            outcome = "skipped" if report.skipped else (props["kind"] or "failed") if report.failed else "passed"
        existing = self.records.get(report.nodeid)
        if existing is None:
            self.records[report.nodeid] = Record(
                id=props["id"], title=props["title"], severity=props["severity"], ref=props["ref"],
                host=props["host"], outcome=outcome, duration_s=round(report.duration, 3),
                message=self.redact(props["message"]), nodeid=report.nodeid,
            )
            return
        existing.duration_s = round(existing.duration_s + report.duration, 3)
        if existing.outcome == "passed" and outcome != "passed":  # e.g. a teardown error after a pass
            existing.outcome, existing.message = outcome, self.redact(props["message"])

    def _add_controller_costs(self) -> None:
        """pytest-xdist's controller runs no control but opens each host's
        connection and answers the workers' warm-up (transport.masters,
        transport.answers): its connections and round trips count too."""
        for host, n in COUNTERS.shells.items():
            self.links["connections"].setdefault(host, {})["controller"] = n
        for kind, counts in (("round_trips", COUNTERS.round_trips), ("prefetched", COUNTERS.prefetched)):
            for host, n in counts.items():
                self.process[kind][host] = self.process[kind].get(host, 0) + n

    def checked(self) -> bool:
        """True once any control ran its checks on a host (passed, failed, errored or was waived)."""
        return any(r.outcome != "skipped" for r in self.records.values())

    def why_nothing(self, records: list[Record]) -> str:
        """One line saying why a run checked nothing: a green run that checked nothing is a lie."""
        if records:
            return f"all {len(records)} selected controls were skipped (see the skip reasons)"
        inv = self.inventory
        if inv is not None and not any(inv.group(role) for role in inv.roles):
            return (f"no inventory group holds a role the controls check ({', '.join(ROLE_NAMES)}); "
                    "map yours with --group ROLE=GROUP")
        return "no control was selected (check -k, -m, --control and the paths given)"

    @pytest.hookimpl(wrapper=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> Generator[None, object, object]:
        """Write the reports, then (a wrapper, so around pytest's junitxml
        writing junit.xml) name its control test cases ``ID[host]``."""
        if getattr(self.config.option, "numprocesses", None) and not hasattr(self.config, "workerinput"):
            self._add_controller_costs()
        records = list(self.records.values())
        counts: dict[str, int] = {}
        for r in records:
            counts[r.outcome] = counts.get(r.outcome, 0) + 1
        run: dict[str, Any] = {
            "tool": "deploycheck",
            "inventory": printable.text(",".join(self.config.getoption("--inventory") or [])),
            "started": datetime.fromtimestamp(self.started, UTC).isoformat(timespec="seconds"),
            "duration_s": round(time.time() - self.started, 2),
            "exit_status": int(exitstatus),
            "counts": counts,
            "remote_commands": _by_host(self.commands),
            **{kind: _by_host({h: dict(sorted(w.items())) for h, w in by_host.items()})
               for kind, by_host in self.links.items()},
            "http_requests": self.requests,
            "round_trips": _by_host(self.process["round_trips"]),
            "prefetched_commands": _by_host(self.process["prefetched"]),
        }
        written = self._write(run, records)
        nothing = exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED) and not self.checked()
        if nothing and not self.config.option.collectonly:
            session.exitstatus = pytest.ExitCode.NO_TESTS_COLLECTED
            sys.stderr.write(f"deploycheck: no control ran: {self.why_nothing(records)}\n")
        if not written:
            session.exitstatus = 2
        xml = junit.written_path(self.config)
        if xml is not None:
            junit.prepare(xml)
        result = yield
        if xml is not None and xml.is_file():
            junit.rename_cases(xml, {r.nodeid: (r.id, r.host) for r in records},
                               getattr(self.config.option, "junitprefix", None))
        return result

    def _write(self, run: dict[str, Any], records: list[Record]) -> bool:
        """controls.json, summary.md and the Prometheus textfile; False (and one
        line on stderr) when they could not be written, e.g. a reports folder
        made unsafe during the run."""
        try:
            write_all(Path(self.config.getoption("--reports-dir")), run, records,
                      step_summary=os.environ.get("GITHUB_STEP_SUMMARY"))
            textfile = self.config.getoption("--prometheus-textfile", None)
            if textfile:
                prometheus.write_textfile(Path(textfile), {**run, "ended": time.time()}, records)
        except (ReportsFolderError, OSError) as exc:
            sys.stderr.write(f"deploycheck: cannot write the reports: {exc}\n")
            return False
        return True
