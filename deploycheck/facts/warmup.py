"""Asking each host, when the run starts, what its controls will ask.

Over a slow link every remote command is a round trip, and controls run one
after the other. Here, before the first control runs, one thread per host
opens the host's connection and sends the facts most controls read (its
listeners, its units, its paths, its nginx and sshd settings, the pages
its services answer on its own ports) in one pipelined exchange, then
those that depend on the answers (the cgroups of the listeners, the Java
runtime the microservice runs) in a second. The hosts are asked at the same time, so the
waiting overlaps; controls then find the answers in ``hostfacts``' cache,
waiting for them if they are still on their way. Only read-only commands
are asked ahead, and a failure here is left for the controls to report.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable

from deploycheck.facts import hostfacts, hostpages, java, listeners, nginx, omeroserver, probe, sshd, systemd
from deploycheck.inventory.connection import sharing_control_dir
from deploycheck.inventory.loader import Host, RenderError
from deploycheck.inventory.variables import expect
from deploycheck.transport import masters
from deploycheck.transport.remote import reachability, run_many

_DECLARED: dict[str, list[str]] = {}  # commands the selected control modules declare they read, by host
_DECLARED_THEN: dict[str, list[Callable[[Host], Iterable[str]]]] = {}  # ...and those built from the first answers


def declare(node: Host, commands: Iterable[str]) -> None:
    """Commands a control module says its controls will read on ``node``
    through ``hostfacts`` (its ``ahead(node)``): asked in the first exchange."""
    _DECLARED.setdefault(node.name, []).extend(commands)


def declare_then(node: Host, later: Callable[[Host], Iterable[str]]) -> None:
    """A control module's ``ahead_then(node)``: the commands its controls will
    read that depend on the first exchange's answers, asked in the second."""
    _DECLARED_THEN.setdefault(node.name, []).append(later)


def _declared_then(node: Host) -> list[str]:
    asked = []
    for later in _DECLARED_THEN.get(node.name, []):
        with contextlib.suppress(AssertionError, RenderError, KeyError, TypeError, ValueError):  # its control says why
            asked += list(later(node))
    return asked


def first_questions(node: Host) -> list[str]:
    """Facts that depend on nothing but the inventory."""
    units = systemd.inventory_units(node)
    asked = [listeners.COMMAND, systemd.STATE_COMMAND, hostfacts.ADDRESSES, hostfacts.HOSTS_FILE]
    if units:
        asked.append(systemd.properties_command(units, systemd.PROPERTIES))
    paths = hostfacts.inventory_paths(node)
    if paths:
        asked.append(hostfacts.stat_command(paths))
    if "nginx.service" in units:
        asked.append(nginx.COMMAND)
    if node.has_role("proxy"):
        asked += sshd.commands()
    if node.has_role("omeroreadonly") or node.has_role("omeroreadwrite"):
        asked += [omeroserver.version_command(node), omeroserver.grid_command(node)]
    if node.has_role("omeroreadonly"):  # the microservice's host
        asked += [hostfacts.writable_command(expect(node, "omero_user"), expect(node, "omero_data_dir")),
                  java.processes_command(expect(node, "ms_unit")), java.environment_command(expect(node, "ms_unit"))]
    return asked + hostpages.ahead(node) + _DECLARED.get(node.name, [])


def second_questions(node: Host) -> list[str]:
    """Facts that depend on the first answers."""
    asked = []
    if hostfacts.known(node, listeners.COMMAND):
        try:
            pids = [pid for sock in listeners.listening_tcp(node) for _, pid in sock.processes]
        except AssertionError:  # ss failed; its control says so
            pids = []
        asked += [listeners.cgroups_command(pids)] if pids else []
    if hostfacts.known(node, omeroserver.grid_command(node)) and (folder := omeroserver.log_dir(node)):
        asked.append(omeroserver.logs_command(folder))
        if expect(node, "omero_logs_mount"):
            asked.append(omeroserver.mount_command(folder))
    unit = expect(node, "ms_unit") if node.has_role("omeroreadonly") else None
    if unit and hostfacts.known(node, java.processes_command(unit)):
        with contextlib.suppress(AssertionError):  # processes or environment unreadable: its control says so
            asked.append(java.second_command(node, unit))
    return asked + _declared_then(node)


STAGES: tuple[Callable[[Host], list[str]], ...] = (first_questions, second_questions)


def _ask(node: Host, done: threading.Event, probes: list[tuple[str, list[int]]]) -> None:
    hostfacts.ASKER.ahead = True
    try:
        if reachability(node) is not None:  # opens the connection; the controls report the cause
            return
        for stage in STAGES:
            try:
                questions = [q for q in dict.fromkeys(stage(node)) if not hostfacts.known(node, q)]
            except RenderError:
                continue
            if questions:
                answers = run_many(node, questions)
                hostfacts.store(node, dict(zip(questions, answers, strict=True)))
        if probes:  # the vantage point outside: every host's ports at once
            probe.ask_ahead(node, probes)
    except (RuntimeError, OSError, TimeoutError):
        pass  # the connection failed mid-way: each control asks again and reports it
    finally:
        done.set()


def connect_early(nodes: Iterable[Host]) -> list[threading.Thread]:
    """Open the hosts' connections while pytest still collects: over a slow
    link an SSH login through a jump host costs a dozen round trips, which
    then overlap with collection instead of delaying the first control
    (hosts behind a jump host ride its connection, see transport.masters).
    A worker that shares the controller's connections opens nothing now: the
    controller tells it whether a host answers, and its own shell on a host
    (a channel, or a docker exec) opens when a control first runs a command
    there, not on every host by every worker (most controls of a host read
    the answers the controller gathered, and each unused shell costs the
    host a shell and the controller a process)."""
    if sharing_control_dir():
        return []
    return masters.open_connections(nodes, reachability, others_too=True)


def start(nodes: Iterable[Host], vantage: Host | None = None,
          probes: list[tuple[str, list[int]]] | None = None) -> list[threading.Thread]:
    """Ask every host ahead, each in its own thread, all at once; the
    vantage point outside also asks the ``probes`` (address, ports)."""
    threads = []
    chosen = {n.name: n for n in nodes} | ({vantage.name: vantage} if vantage is not None else {})
    for node in chosen.values():
        done = hostfacts.asking_ahead(node)
        if done.is_set():
            continue
        mine = (probes or []) if vantage is not None and node.name == vantage.name else []
        thread = threading.Thread(target=_ask, args=(node, done, mine), name=f"warmup-{node.name}", daemon=True)
        thread.start()
        threads.append(thread)
    return threads
