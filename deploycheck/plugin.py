"""The pytest plugin, hooks only: options, the inventory loaded before the
session, controls parametrized by host group, disruptive controls gated.
The run's records and reports are deploycheck.report's."""

from __future__ import annotations

import math
import os
import sys
import warnings
from collections.abc import Generator, Iterable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pluggy
import pytest

from deploycheck import readiness
from deploycheck.control import control_of, reads_of, reads_shell
from deploycheck.facts import planner, warmup
from deploycheck.handoff import FromController, ToWorkers
from deploycheck.inventory import loader, roles
from deploycheck.inventory.connection import Ssh, connection_of
from deploycheck.inventory.loader import Inventory, InventoryError, Node
from deploycheck.inventory.variables import expect, validate
from deploycheck.report import printable, recorder, waivers
from deploycheck.report.files import ReportsFolderError, private_dir
from deploycheck.report.redact import Redactor, bind, mask_output, mask_warning, redactor_for
from deploycheck.report.waivers import Waiver, WaiverError
from deploycheck.transport import masters
from deploycheck.transport.answers import AnswerServer
from deploycheck.transport.counters import COUNTERS, RunCounters
from deploycheck.transport.remote import HostUnreachableError, reachability, run_many
from deploycheck.transport.shell import ShellClosedError
from deploycheck.transport.sshstate import control_dir

INVENTORY_KEY = pytest.StashKey[Inventory]()
COUNTERS_KEY = pytest.StashKey[RunCounters]()
WAIVERS_KEY = pytest.StashKey[list[Waiver]]()
REDACTOR_KEY = pytest.StashKey[Redactor]()
WAIT_KEY = pytest.StashKey[float]()
BASELINE_KEY = pytest.StashKey[str]()
LOADED_KEY = pytest.StashKey["int | None"]()  # the outcome of loading the inventory: None, or an exit status
ANSWERS_KEY = pytest.StashKey[AnswerServer]()  # the controller's answers to the workers' warm-up
SECRETS_KEY = pytest.StashKey[list[str]]()  # in a worker: the secrets the controller found in the inventory


ABSENT = "no-hosts"  # the parameter id of a control whose roles have no hosts in the inventory

MARKERS = (
    "control(id, title, severity, ref): a deploycheck control (set by deploycheck.control.control)",
    "hosts(group): run once per inventory host of the group",
    "disruptive: changes state on a host; runs only with --allow-disruptive",
    "slow: waits on a timeout by design; started first so that parallel workers overlap it",
)


class _WorkStealingByDefault:
    """With workers (-n) and no --dist, idle workers take the controls queued
    behind a slow one. pytest-xdist turns an unset --dist into "load" in its
    own tryfirst pytest_cmdline_main; only a wrapper runs before it."""

    @pytest.hookimpl(wrapper=True)
    def pytest_cmdline_main(self, config: pytest.Config) -> Iterator[None]:
        if getattr(config.option, "numprocesses", None) and getattr(config.option, "dist", "no") == "no":
            config.option.dist = "worksteal"
        return (yield)


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    if not pluginmanager.has_plugin("deploycheck-worksteal"):
        pluginmanager.register(_WorkStealingByDefault(), "deploycheck-worksteal")
    group = parser.getgroup("deploycheck")
    group.addoption("--inventory", action="append", default=None,
                    help="Ansible inventory of the deployment (file, folder or plugin config; repeat to combine, "
                         "as ansible -i A -i B).")
    group.addoption("--playbook-dir", default=None, metavar="DIR",
                    help="The deployment's playbook folder: its group_vars/ and host_vars/ apply, as with "
                         "ansible-inventory --playbook-dir.")
    group.addoption("--vault-password-file", default=os.environ.get("ANSIBLE_VAULT_PASSWORD_FILE"), metavar="FILE",
                    help="Password for vault-encrypted variables (default: $ANSIBLE_VAULT_PASSWORD_FILE).")
    group.addoption("--group", action="append", default=[], metavar="ROLE=GROUP",
                    help="Find a role's hosts in another inventory group, e.g. proxy=web-front (roles: "
                         f"{', '.join(roles.ROLES)}).")
    group.addoption("--allow-disruptive", action="store_true", default=False,
                    help="Also run controls that change state on a host (they restore it).")
    group.addoption("--reports-dir", default="reports", help="Where junit.xml, controls.json, summary.md go.")
    group.addoption("--wait-ready", default="0", metavar="SECONDS",
                    help="First wait up to SECONDS until every host and endpoint of the inventory answers.")
    group.addoption("--baseline", default=None, metavar="URL|INVENTORY",
                    help="The deployment this one replaces, by public URL or inventory: the IDR-GATE controls "
                         "compare the public data of both (default: the inventory's release_baseline_url).")
    group.addoption("--prometheus-textfile", default=None, metavar="PATH",
                    help="Also write the outcome per control and host to PATH (*.prom) in the Prometheus text "
                         "format, for node_exporter's textfile collector; written atomically.")
    group.addoption("--control", action="append", default=[], metavar="ID_OR_PREFIX",
                    help="Run only these controls: an exact control id (IDR-CACHE-01) or an id prefix ending before "
                         "a '-' (IDR-CACHE, IDR); repeat to add more. Matches control ids only, never host names "
                         "(-k matches both).")
    group.addoption("--waivers", default=None, help="YAML file of accepted exceptions (id, host, justification, "
                    "expires); a waived failure does not fail the run.")


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """Load the inventory before the session: a bad one is one line and exit 2."""
    return _load_once(config)


def _load_once(config: pytest.Config) -> int | None:
    """The inventory loaded (once, whichever hook asks first), or the exit status of a bad one."""
    if LOADED_KEY not in config.stash:
        config.stash[LOADED_KEY] = _load(config)
    return config.stash[LOADED_KEY]


def _load(config: pytest.Config) -> int | None:
    paths = config.getoption("--inventory")
    if not paths:
        return None
    given = FromController.of(config)
    redact = Redactor([])  # until the inventory is read, only the --baseline URL's password is known
    redact.add_urls(config.getoption("--baseline"))
    try:
        received = given.inventory() if given is not None else None
        if received is not None:  # a worker: the controller's reading, without Ansible
            inv, secrets = received
            config.stash[SECRETS_KEY] = secrets
            bind(inv, Redactor(secrets))
        else:
            inv = loader.load(paths, config.getoption("--playbook-dir"), config.getoption("--vault-password-file"))
        roles.assign(inv, roles.parse_overrides(config.getoption("--group")))
        redact = config.stash[REDACTOR_KEY] = redactor_for(inv)  # made once roles are known: secrets read from peers
        redact.add_urls(config.getoption("--baseline"))
        problems = validate(inv)
        if problems:
            raise InventoryError(f"{inv.path}: " + "; ".join(problems))
        config.stash[INVENTORY_KEY] = inv
        config.stash[WAIT_KEY] = _seconds(config.getoption("--wait-ready"))
        _reports_dir(Path(config.getoption("--reports-dir")))
        if config.getoption("--baseline"):
            handed = given.baseline() if given is not None else None
            config.stash[BASELINE_KEY] = handed or _baseline(config.getoption("--baseline"), config)
            redact.add_urls(config.stash[BASELINE_KEY])  # a baseline inventory's public_url may hold one
        if config.getoption("--prometheus-textfile"):
            _textfile(Path(config.getoption("--prometheus-textfile")))
        if config.getoption("--control") and not hasattr(config, "workerinput"):
            _check_control_selectors(config.getoption("--control"))
        waiver_file = config.getoption("--waivers")
        config.stash[WAIVERS_KEY] = waivers.load(waiver_file) if waiver_file else []
        if config.stash[WAIVERS_KEY] and not hasattr(config, "workerinput"):
            _check_waiver_ids(waiver_file, config.stash[WAIVERS_KEY])
    except (InventoryError, WaiverError) as exc:  # one line, whatever a value held, masked before it is cut
        sys.stderr.write(f"deploycheck: {printable.text(loader.one_line(InventoryError(redact(str(exc)))))}\n")
        return 2
    return None


def _seconds(text: str) -> float:
    """--wait-ready: a finite, non-negative number of seconds (nan would wait forever)."""
    try:
        seconds = float(text)
    except ValueError:
        raise InventoryError(f"--wait-ready={text!r}: not a number of seconds") from None
    if not math.isfinite(seconds) or seconds < 0 or seconds > 86400:
        raise InventoryError(f"--wait-ready={text!r}: give seconds from 0 to 86400")
    return seconds


def _reports_dir(path: Path) -> None:
    """The reports folder, made now or checked (private): a file in its place, a
    folder of another user or a symlink, or no right to write is a usage error."""
    try:
        private_dir(path)
        if not os.access(path, os.W_OK | os.X_OK):
            raise InventoryError(f"--reports-dir={path}: not writable")
    except ReportsFolderError as exc:
        raise InventoryError(f"--reports-dir={path}: {exc}") from None
    except OSError as exc:
        raise InventoryError(f"--reports-dir={path}: {exc.strerror or exc}") from None


def _baseline(value: str, config: pytest.Config) -> str:
    """--baseline: a public http(s) URL, or an inventory whose proxy's public_url is taken."""
    if value.startswith(("http://", "https://")):
        if not urlsplit(value).hostname:
            raise InventoryError(f"--baseline={value}: no host in the URL")
        return value.rstrip("/")
    if not Path(value).exists():
        raise InventoryError(f"--baseline={value}: neither an http(s) URL nor an inventory file or folder")
    inv = loader.load([value], None, config.getoption("--vault-password-file"))
    roles.assign(inv, {})
    proxies = inv.group("proxy")
    if not proxies:
        raise InventoryError(f"--baseline={value}: the inventory has no proxy host to take public_url from")
    url = str(expect(proxies[0], "public_url") or "")
    if not url.startswith(("http://", "https://")):
        raise InventoryError(f"--baseline={value}: {proxies[0].name} has no http(s) public_url")
    return url.rstrip("/")


def baseline_of(config: pytest.Config) -> str | None:
    """The --baseline URL, once checked (None when not given)."""
    return config.stash.get(BASELINE_KEY, None)


def _textfile(path: Path) -> None:
    """--prometheus-textfile: a *.prom file (the collector reads no other) in a folder we may write."""
    if path.suffix != ".prom":
        raise InventoryError(f"--prometheus-textfile={path}: must end in .prom (the textfile collector reads "
                             "only *.prom files)")
    if path.is_dir():
        raise InventoryError(f"--prometheus-textfile={path}: is a folder")
    folder = path.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise InventoryError(f"--prometheus-textfile={path}: {folder} is not a folder we can write to")


def selects(selectors: Iterable[str], control_id: str) -> bool:
    """``--control``: the id itself, or a prefix of it that ends where a part of the id does."""
    return any(control_id == s or control_id.startswith(s + "-") for s in selectors)


def _check_control_selectors(selectors: list[str]) -> None:
    """A --control matching no control of the catalogue is a typo that would run nothing: refused."""
    from deploycheck.catalogue import CatalogueError, load_controls

    try:
        known = [entry.id for entry in load_controls()]
    except CatalogueError as exc:
        raise InventoryError(f"--control: cannot list the controls: {exc}") from exc
    for selector in selectors:
        if not any(selects([selector], control_id) for control_id in known):
            raise InventoryError(f"--control={selector}: no control has this id or id prefix (see make controls)")


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
    mask_output(config.stash[REDACTOR_KEY])
    with_roles = [h for h in inv.hosts.values() if any(h in inv.group(r) for r in inv.roles)]
    given = FromController.of(config)
    if given is not None:
        given.adopt()
    if _runs_controls(config) and _whole_suite(config):
        warmup.connect_early(with_roles)
    if hasattr(config, "workerinput"):
        return
    config.pluginmanager.register(recorder.RunRecorder(config, config.stash[REDACTOR_KEY], inv),
                                  "deploycheck-recorder")
    to_workers = ToWorkers(inv, config.stash[REDACTOR_KEY], config.stash.get(BASELINE_KEY, None))
    config.pluginmanager.register(to_workers, "deploycheck-handoff")
    if config.stash[WAIT_KEY]:
        readiness.wait(inv, config.stash[WAIT_KEY])
    reports = Path(config.getoption("--reports-dir"))
    if not getattr(config.option, "xmlpath", None):
        config.option.xmlpath = str(reports / "junit.xml")
    if not _runs_controls(config) and _whole_suite(config):
        masters.open_connections(with_roles, reachability)
        to_workers.masters = control_dir()
        config.stash[ANSWERS_KEY] = AnswerServer(control_dir(), {h.name: h for h in with_roles}, run_many,
                                                   reachability)


@pytest.hookimpl(tryfirst=True)
def pytest_warning_recorded(warning_message: warnings.WarningMessage) -> None:
    """A warning (one raised in a thread too) is masked before the summary
    shows it or a worker sends it to the controller."""
    mask_warning(warning_message)


def pytest_unconfigure(config: pytest.Config) -> None:
    server = config.stash.get(ANSWERS_KEY, None)
    if server is not None:
        server.close()


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto`` with SSH hosts: one worker more than the CPUs. Workers of
    a run against far hosts spend their time waiting for answers, and the
    extra one overlaps those waits; hosts in containers here share the CPUs
    with the run, so they keep pytest-xdist's count (None)."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # the user's own count
    _load_once(config)  # pytest-xdist may ask before this plugin's pytest_cmdline_main ran
    inv = config.stash.get(INVENTORY_KEY, None)
    if inv is None or not any(isinstance(connection_of(h), Ssh) for h in inv.hosts.values()):
        return None
    return (os.cpu_count() or 1) + 1


def _runs_controls(config: pytest.Config) -> bool:
    """This process runs controls: an xdist worker, or a run without workers."""
    return hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None)


def _whole_suite(config: pytest.Config) -> bool:
    """No ``-k``, no ``--control`` and no file or node chosen: every host with a role is
    checked, so connecting before collection ends wastes nothing. A run
    narrowed to a few controls connects only to their hosts, once collected."""
    if config.option.keyword or config.option.collectonly or config.option.control:
        return False
    return all(Path(arg).is_dir() for arg in config.args)


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
    nodes: list[Node] = []
    for group in mark.args:
        nodes += [h for h in inv.group(group) if h not in nodes]
    if nodes:
        metafunc.parametrize("node", nodes, ids=[h.name for h in nodes], scope="function")
    else:  # deselected at collection and reported once per role, not once per control
        metafunc.parametrize("node", [pytest.param(None, id=ABSENT)])


@pytest.fixture(scope="session")
def inventory(request: pytest.FixtureRequest) -> Inventory:
    return inventory_of(request.config)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    absent = [i for i in items if "node" in (params := _params(i)) and params["node"] is None]
    if absent:
        config.hook.pytest_deselected(items=absent)
        items[:] = [i for i in items if i not in absent]
    selectors = config.getoption("--control")
    if selectors:  # control ids only: a host named like a control changes nothing
        others = [i for i in items if (meta := control_of(i)) is None or not selects(selectors, meta.id)]
        if others:
            config.hook.pytest_deselected(items=others)
            items[:] = [i for i in items if i not in others]
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


def _params(item: pytest.Item) -> dict[str, object]:
    """The item's parameters ({} for a control not parametrized)."""
    return item.callspec.params if isinstance(item, pytest.Function) and hasattr(item, "callspec") else {}


def pytest_collection_finish(session: pytest.Session) -> None:
    """Ask the selected controls' questions, all places at once, while the first controls start."""
    if session.config.option.collectonly or not session.items:
        return
    planner.start([(node, reads_of(item)) for item in session.items if (node := node_of(item)) is not None])


def node_of(item: pytest.Item) -> Node | None:
    """The inventory host a control runs for (None: a control of no host)."""
    node = _params(item).get("node")
    return node if isinstance(node, Node) else None


def uses_shell(item: pytest.Item, node: Node) -> bool:
    """The control observes ``node`` through its shell: it takes the testinfra
    ``host``, says so (``@control(..., shell=True)``) or reads a question asked
    there. Controls that only talk to the public site do not need it."""
    return "host" in getattr(item, "fixturenames", ()) or reads_shell(item) or planner.on_host(node, reads_of(item))


_REPORTED = RunCounters()  # this process's counts already sent with a report


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[COUNTERS_KEY] = COUNTERS.copy()


@pytest.hookimpl(specname="pytest_runtest_setup")
def pytest_runtest_setup_reachable(item: pytest.Item) -> None:
    """A control of a host it cannot reach observes nothing: one error line,
    the run's one verdict on that host (see transport.remote.reachability),
    the same for each such control; after the skip marks, before fixtures."""
    node = node_of(item)
    if node is not None and uses_shell(item, node):
        cause = reachability(node)
        if cause is not None:
            pytest.fail(cause, pytrace=False)


@pytest.hookimpl(wrapper=True, specname="pytest_runtest_setup")
def pytest_runtest_setup_one_line(item: pytest.Item) -> Iterator[None]:
    """A fixture that finds a host gone ends the control as the check above does."""
    try:
        return (yield)
    except (HostUnreachableError, ShellClosedError) as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """A host gone while its control runs (unreachable, or its connection
    closed under a command): the same one line, not a traceback."""
    try:
        return (yield)
    except (HostUnreachableError, ShellClosedError) as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pluggy.Result[pytest.TestReport], None]:
    """Mask secrets, then attach the control's cost (with its teardown) and its outcome."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    redact = item.config.stash.get(REDACTOR_KEY, None)
    recorder.redact_report(redact, report)
    recorder.escape_report(report, _coloured(item.config))
    if report.when == "teardown":
        global _REPORTED
        recorder.attach_cost(report, COUNTERS.since(item.stash.get(COUNTERS_KEY, RunCounters())),
                             COUNTERS.since(_REPORTED))
        _REPORTED = COUNTERS.copy()
    meta = control_of(item)
    if meta is not None:
        node = node_of(item)
        recorder.attach_outcome(report, call, meta, node.name if node is not None else "-",
                                item.config.stash.get(WAIVERS_KEY, []), redact)


def _coloured(config: pytest.Config) -> bool:
    """pytest's terminal writes colours (its assertion explanations hold them then)."""
    try:
        return config.get_terminal_writer().hasmarkup
    except (AssertionError, AttributeError):
        return False


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Which inventory groups the roles use, and which roles have no hosts (their controls do not run)."""
    if INVENTORY_KEY not in config.stash:
        return []
    inv = config.stash[INVENTORY_KEY]
    found = ", ".join(f"{role}={group} ({len(inv.group(role))})" for role, group in inv.roles.items()
                      if inv.group(role))
    missing = [role for role in roles.ROLES if not inv.group(role)]
    lines = [f"deploycheck: inventory {inv.path} ({len(inv.hosts)} hosts); roles: {found or 'none'}"]
    if missing:
        lines.append(f"deploycheck: no hosts for {', '.join(missing)}: their controls are not run "
                     "(map your groups with --group ROLE=GROUP)")
    lines += [f"deploycheck: ansible warned: {w}" for w in inv.warnings]
    return [printable.text(line) for line in lines]
