"""The pytest plugin: inventory options, per-host parametrization of
controls, disruptive-control gating and the run's reports."""

from __future__ import annotations

import collections
import os
import sys
import time
from collections.abc import Generator, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from deploycheck import readiness
from deploycheck.control import control_of
from deploycheck.inventory import loader as inventory_mod
from deploycheck.inventory.loader import Host, Inventory, InventoryError
from deploycheck.inventory.variables import validate
from deploycheck.report import junit
from deploycheck.report import waivers as waivers_mod
from deploycheck.report.records import Record, write_all
from deploycheck.report.redact import Redactor
from deploycheck.report.waivers import Waiver, WaiverError
from deploycheck.transport.http import REQUESTS
from deploycheck.transport.remote import COMMANDS
from deploycheck.transport.shell import CONNECTIONS
from deploycheck.transport.tunnel import TUNNELS

INVENTORY_KEY = pytest.StashKey[Inventory]()
COMMANDS_KEY = pytest.StashKey[dict[str, int]]()
LINKS_KEY = pytest.StashKey[dict[str, dict[str, int]]]()
LINKS = {"connections": CONNECTIONS, "tunnels": TUNNELS}  # shells and relays opened, by host
WAIVERS_KEY = pytest.StashKey[list[Waiver]]()
REDACTOR_KEY = pytest.StashKey[Redactor]()
REQUESTS_KEY = pytest.StashKey[int]()


MARKERS = (
    "control(id, title, severity, ref): a deploycheck control (set by deploycheck.control.control)",
    "hosts(group): run once per inventory host of the group",
    "disruptive: changes state on a host; runs only with --allow-disruptive",
    "slow: waits on a timeout by design; started first so that parallel workers overlap it",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("deploycheck")
    group.addoption("--inventory", action="append", default=None,
                    help="Ansible-style YAML inventory of the deployment to check (repeat to combine several).")
    group.addoption("--allow-disruptive", action="store_true", default=False,
                    help="Also run controls that change state on a host (they restore it).")
    group.addoption("--reports-dir", default="reports", help="Where junit.xml, controls.json, summary.md go.")
    group.addoption("--wait-ready", type=float, default=0, metavar="SECONDS",
                    help="First wait up to SECONDS until every host and endpoint of the inventory answers.")
    group.addoption("--waivers", default=None, help="YAML file of accepted exceptions (id, host, justification, "
                    "expires); a waived failure does not fail the run.")


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """Load the inventory before the session: a bad one is one line and exit 2."""
    if getattr(config.option, "numprocesses", None) and getattr(config.option, "dist", "no") == "no":
        config.option.dist = "worksteal"  # idle workers take the controls queued behind a slow one
    paths = config.getoption("--inventory")
    if not paths:
        return None
    try:
        inv = inventory_mod.merge([inventory_mod.load(p) for p in paths])
        problems = validate(inv)
        if problems:
            raise InventoryError(f"{inv.path}: " + "; ".join(problems))
        config.stash[INVENTORY_KEY] = inv
        waiver_file = config.getoption("--waivers")
        config.stash[WAIVERS_KEY] = waivers_mod.load(waiver_file) if waiver_file else []
        if config.stash[WAIVERS_KEY] and not hasattr(config, "workerinput"):
            _check_waiver_ids(waiver_file, config.stash[WAIVERS_KEY])
    except (InventoryError, WaiverError) as exc:
        sys.stderr.write(f"deploycheck: {exc}\n")
        return 2
    return None


def _check_waiver_ids(path: str, waivers: list[Waiver]) -> None:
    """A waiver naming no control is a typo that would hide nothing: refused
    before the session starts, in the main process (xdist workers never see it)."""
    from deploycheck.catalogue import CatalogueError, load_controls

    try:
        known = {entry.id for entry in load_controls()}
    except CatalogueError as exc:
        raise WaiverError(f"{path}: cannot list the controls to check waiver ids: {exc}") from exc
    unknown = sorted({w.id for w in waivers} - known)
    if unknown:
        raise WaiverError(f"{path}: unknown control id(s) {', '.join(unknown)}")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    if INVENTORY_KEY not in config.stash:
        return
    inv = config.stash[INVENTORY_KEY]
    config.stash[REDACTOR_KEY] = Redactor.from_inventory(inv)
    if hasattr(config, "workerinput"):
        return
    config.pluginmanager.register(RunRecorder(config, inv), "deploycheck-recorder")
    if config.getoption("--wait-ready"):
        readiness.wait(inv, config.getoption("--wait-ready"))
    reports = Path(config.getoption("--reports-dir"))
    reports.mkdir(parents=True, exist_ok=True)
    if not getattr(config.option, "xmlpath", None):
        config.option.xmlpath = str(reports / "junit.xml")


def inventory_of(config: pytest.Config) -> Inventory:
    if INVENTORY_KEY not in config.stash:
        raise pytest.UsageError("deploycheck controls need --inventory PATH")
    return config.stash[INVENTORY_KEY]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Controls that take ``node`` run once per host of their marked groups."""
    if "node" not in metafunc.fixturenames:
        return
    mark = metafunc.definition.get_closest_marker("hosts")
    if mark is None:
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: a control taking 'node' needs @pytest.mark.hosts")
    inv = inventory_of(metafunc.config)
    nodes: list[Host] = []
    for group in mark.args:
        nodes += [h for h in inv.group(group) if h not in nodes]
    if nodes:
        metafunc.parametrize("node", nodes, ids=[h.name for h in nodes], scope="function")
    else:
        reason = f"inventory has no hosts in group(s) {', '.join(mark.args)}"
        metafunc.parametrize("node", [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="no-hosts")])


@pytest.fixture(scope="session")
def inventory(request: pytest.FixtureRequest) -> Inventory:
    return inventory_of(request.config)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)  # stable: slow controls first
    for item in items:  # -k selects by control id too: -k "IDR-CACHE or VIDJIL-TLS-01"
        meta = control_of(item)
        if meta is not None:
            item.extra_keyword_matches.add(meta.id)
    if config.getoption("--allow-disruptive"):
        return
    skip = pytest.mark.skip(reason="disruptive control: run with --allow-disruptive")
    for item in items:
        if item.get_closest_marker("disruptive"):
            item.add_marker(skip)


def _redact_report(config: pytest.Config, report: pytest.TestReport) -> None:
    """Inventory secrets never reach the terminal, junit.xml or logs, even with -vv:
    tracebacks, captured output and captured log lines (testinfra logs commands) are masked."""
    redact = config.stash.get(REDACTOR_KEY, None)
    if redact is None or not redact.active:
        return
    if report.longrepr is not None and not isinstance(report.longrepr, tuple):
        text = str(report.longrepr)
        if redact(text) != text:
            report.longrepr = redact(text)
    report.sections = [(name, redact(content)) for name, content in report.sections]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[COMMANDS_KEY] = dict(COMMANDS)
    item.stash[LINKS_KEY] = {kind: dict(counter) for kind, counter in LINKS.items()}
    item.stash[REQUESTS_KEY] = REQUESTS[0]


def _since(before: dict[str, int], now: collections.Counter[str]) -> dict[str, int]:
    """Per-host growth of a counter during one control (reported with its teardown)."""
    return {h: n - before.get(h, 0) for h, n in now.items() if n != before.get(h, 0)}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Attach the control's metadata and a one-line outcome to the report."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    _redact_report(item.config, report)
    if report.when == "teardown":
        report.user_properties.append(("deploycheck_commands", _since(item.stash.get(COMMANDS_KEY, {}), COMMANDS)))
        before = item.stash.get(LINKS_KEY, {})
        report.user_properties.append(("deploycheck_links", (os.environ.get("PYTEST_XDIST_WORKER", "main"), {
            kind: _since(before.get(kind, {}), counter) for kind, counter in LINKS.items()})))
        report.user_properties.append(("deploycheck_requests", REQUESTS[0] - item.stash.get(REQUESTS_KEY, 0)))
    meta = control_of(item)
    if meta is None:
        return
    node = getattr(item, "callspec", None) and item.callspec.params.get("node")
    host_name = node.name if isinstance(node, Host) else "-"
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
        waiver = waivers_mod.find(item.config.stash.get(WAIVERS_KEY, []), meta.id, host_name)
        if waiver is not None and waiver.expired(date.today()):
            message += f" (waiver expired on {waiver.expires.isoformat()})"
        elif waiver is not None:
            kind = "waived"
            message += f" [waived until {waiver.expires.isoformat()}: {waiver.justification}]"
            report.outcome = "skipped"
            report.wasxfail = f"waived: {waiver.justification}"
    elif report.skipped and isinstance(report.longrepr, tuple):
        message = str(report.longrepr[2]).removeprefix("Skipped: ")
    redact = item.config.stash.get(REDACTOR_KEY, None)
    report.user_properties.append(("deploycheck", {
        **meta.as_dict(), "host": host_name, "kind": kind, "message": redact(message) if redact else message,
    }))


class RunRecorder:
    """Collects one record per control and host in the controlling process
    (xdist workers send their reports here) and writes the reports."""

    def __init__(self, config: pytest.Config, inv: Inventory) -> None:
        self.config = config
        self.started = time.time()
        self.redact = config.stash[REDACTOR_KEY]
        self.records: dict[str, Record] = {}
        self.commands: dict[str, int] = {}
        self.links: dict[str, dict[str, dict[str, int]]] = {kind: {} for kind in LINKS}  # kind->host->worker->n
        self.requests = 0

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        props_all = dict(report.user_properties)
        for host, n in props_all.get("deploycheck_commands", {}).items():
            self.commands[host] = self.commands.get(host, 0) + n
        self.requests += int(props_all.get("deploycheck_requests", 0))
        worker, opened = props_all.get("deploycheck_links", ("main", {}))
        for kind, by_host in opened.items():
            for host, n in by_host.items():
                per_worker = self.links[kind].setdefault(host, {})
                per_worker[worker] = per_worker.get(worker, 0) + n
        props = dict(report.user_properties).get("deploycheck")
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

    @pytest.hookimpl(wrapper=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> Generator[None, object, object]:
        """Write the reports, then (a wrapper, so after pytest's junitxml wrote
        junit.xml) name its control test cases ``ID[host]``."""
        records = list(self.records.values())
        counts: dict[str, int] = {}
        for r in records:
            counts[r.outcome] = counts.get(r.outcome, 0) + 1
        run: dict[str, Any] = {
            "tool": "deploycheck",
            "inventory": ",".join(self.config.getoption("--inventory") or []),
            "started": datetime.fromtimestamp(self.started, UTC).isoformat(timespec="seconds"),
            "duration_s": round(time.time() - self.started, 2),
            "exit_status": int(exitstatus),
            "counts": counts,
            "remote_commands": dict(sorted(self.commands.items())),
            **{kind: {h: dict(sorted(w.items())) for h, w in sorted(by_host.items())}
               for kind, by_host in self.links.items()},
            "http_requests": self.requests,
        }
        write_all(Path(self.config.getoption("--reports-dir")), run, records,
                  step_summary=os.environ.get("GITHUB_STEP_SUMMARY"))
        result = yield
        xml = junit.written_path(self.config)
        if xml is not None and xml.is_file():
            junit.rename_cases(xml, {r.nodeid: (r.id, r.host) for r in records},
                               getattr(self.config.option, "junitprefix", None))
        return result


def pytest_report_header(config: pytest.Config) -> list[str]:
    if INVENTORY_KEY not in config.stash:
        return []
    inv = config.stash[INVENTORY_KEY]
    groups = ", ".join(f"{g}={len(h)}" for g, h in inv.groups.items() if g != "all" and h)
    return [f"deploycheck: inventory {inv.path} ({len(inv.hosts)} hosts: {groups})"]
