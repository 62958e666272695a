"""Reaching an inventory host: a shell chosen from Ansible's connection
variables, opened once per host and process and used by testinfra."""

from __future__ import annotations

import functools
import subprocess
import threading
from pathlib import Path

import testinfra.backend
from testinfra.backend.base import CommandResult
from testinfra.host import Host as TestinfraHost

from deploycheck.inventory.connection import Ssh, connection_of
from deploycheck.inventory.loader import Node, cut
from deploycheck.transport.answers import ask_controller, ask_reachability
from deploycheck.transport.counters import COUNTERS
from deploycheck.transport.masters import awaited_marker
from deploycheck.transport.shell import COMMAND_TIMEOUT, PersistentShell, ShellBackend
from deploycheck.transport.sshstate import control_dir, sharing_control_dir


@functools.cache
def _cached(argv: tuple[str, ...] | None, name: str, become: bool, become_user: str | None,
            awaited: Path | None, jump_socket: Path | None) -> TestinfraHost:
    if argv is None:
        backend = testinfra.backend.get_backend("local://")
    else:
        backend = ShellBackend(PersistentShell(list(argv), name, awaited, jump_socket), sudo=become,
                               sudo_user=become_user)
    host = TestinfraHost(backend)
    backend_run = backend.run

    def counted_run(command: str, *args: object, **kwargs: object) -> CommandResult:
        COUNTERS.commands[name] += 1
        return backend_run(command, *args, **kwargs)

    backend.run = counted_run
    return host


_CREATING = threading.Lock()


def testinfra_host(host: Node) -> TestinfraHost:
    """The host's testinfra view; every command goes over one connection per
    process (made under a lock: threads asking at once get the same one)."""
    connection = connection_of(host)
    argv = connection.shell_argv(host)
    become = str(host.vars.get("ansible_become", False)).lower() in ("true", "yes", "1")
    become_user = host.vars.get("ansible_become_user")
    jump_socket = connection.jump_socket(host) if isinstance(connection, Ssh) else None
    with _CREATING:
        return _cached(None if argv is None else tuple(argv), host.name, become,
                       str(become_user) if become_user else None, awaited_marker(host), jump_socket)


def run_many(host: Node, commands: list[str], ahead: bool = True) -> list[tuple[int, str, str]]:
    """(rc, stdout, stderr) of each command, in order, in one round trip over
    the host's connection; counted as commands asked ahead (see facts.warmup),
    or as a control's own commands with ``ahead=False``. In a worker that
    shares the run's connections, questions asked ahead go to the controller,
    which asks each host once for all workers (see transport.answers)."""
    if ahead and sharing_control_dir():
        shared = ask_controller(control_dir(), host, commands, COMMAND_TIMEOUT)
        if shared is not None:
            return shared
    backend = testinfra_host(host).backend
    (COUNTERS.prefetched if ahead else COUNTERS.commands)[host.name] += len(commands)
    results = backend.run_many(commands) if isinstance(backend, ShellBackend) else [backend.run(c) for c in commands]
    return [(r.rc, r.stdout, r.stderr) for r in results]


def run_with_input(host: Node, command: str, stdin: str, timeout: float = 60) -> tuple[int, str, str]:
    """(rc, stdout, stderr) of ``command`` with ``stdin`` on its standard input:
    how secrets reach a remote command, never in its command line."""
    backend = testinfra_host(host).backend
    COUNTERS.commands[host.name] += 1
    if isinstance(backend, ShellBackend):
        rc, out, err = backend.shell.run(backend.get_command(command), timeout=timeout, stdin=stdin)
        return rc, out.decode(errors="replace"), err.decode(errors="replace")
    done = subprocess.run(["/bin/sh", "-c", command], input=stdin, capture_output=True, text=True, timeout=timeout)
    return done.returncode, done.stdout, done.stderr


class HostUnreachableError(Exception):
    """The host cannot run commands; the message names host and cause."""


_REACHABILITY: dict[str, str | None] = {}
_PROBING: dict[str, threading.Lock] = {}
_PROBING_LOCK = threading.Lock()


def reachability(host: Node) -> str | None:
    """None when the host runs a command, else a one-line cause (asked once
    per process, also when several threads ask at once)."""
    with _PROBING_LOCK:
        lock = _PROBING.setdefault(host.name, threading.Lock())
    with lock:
        if host.name not in _REACHABILITY:
            _REACHABILITY[host.name] = _told_or_probed(host)
        return _REACHABILITY[host.name]


def _told_or_probed(host: Node) -> str | None:
    """A worker riding the controller's connections takes the controller's
    verdict (no channel of its own just to run ``true``); anyone else, or a
    worker the controller cannot tell, asks the host."""
    if sharing_control_dir():
        told, cause = ask_reachability(control_dir(), host, COMMAND_TIMEOUT)
        if told:
            return cause
    return _probe(host)


def probe(host: Node, timeout: float | None = None) -> str | None:
    """Ask the host now (uncached): None when it runs a command within
    ``timeout`` seconds (default: the command timeout), else the cause."""
    return _probe(host, timeout)


def _probe(host: Node, timeout: float | None = None) -> str | None:
    try:
        result = testinfra_host(host).run("true", **({"timeout": timeout} if timeout else {}))
    except (RuntimeError, OSError) as exc:  # the connection failed; OSError: no ssh or docker client here
        inner = exc.args[0] if exc.args else None  # testinfra raises RuntimeError(CommandResult)
        text = (getattr(inner, "stderr", None) or str(exc)).strip().splitlines() or [exc.__class__.__name__]
        return f"{host.name}: unreachable ({cut(text[-1], 160)})"
    if result.rc != 0:
        cause = (result.stderr or result.stdout or f"exit status {result.rc}").strip().splitlines()
        return f"{host.name}: unreachable ({cut(cause[-1], 160) if cause else result.rc})"
    return None
