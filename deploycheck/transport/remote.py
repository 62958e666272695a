"""Reaching an inventory host: a shell chosen from Ansible's connection
variables, opened once per host and process and used by testinfra."""

from __future__ import annotations

import atexit
import collections
import functools
import os
import shlex
import shutil
import tempfile
from pathlib import Path

import testinfra.backend
from testinfra.host import Host as TestinfraHost

from deploycheck.inventory.loader import Host, InventoryError
from deploycheck.transport.shell import PersistentShell, ShellBackend

CONNECT_TIMEOUT = 10


@functools.cache
def _control_dir() -> Path:
    """This process's own folder for SSH control sockets (made private by
    mkdtemp, removed at exit): no other user or process can plant one there."""
    path = Path(tempfile.mkdtemp(prefix="deploycheck-ssh-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def ssh_options(host: Host) -> list[str]:
    """ssh options from Ansible's connection variables. Batch mode, so a
    missing key fails at once instead of prompting; connection sharing within
    this process, so the host's shell and its tunnels travel over one SSH
    connection per worker. The port is given only when the inventory sets it,
    so ~/.ssh/config applies otherwise."""
    # ssh keeps the first value it is given for an option: the inventory's own arguments come first
    argv = [arg for name in ("ansible_ssh_common_args", "ansible_ssh_extra_args")
            for arg in shlex.split(str(host.vars.get(name) or ""))]
    argv += ["-o", "BatchMode=yes", "-o", f"ConnectTimeout={int(host.vars.get('ansible_timeout', CONNECT_TIMEOUT))}",
             "-o", "ControlMaster=auto", "-o", f"ControlPath={_control_dir()}/%C", "-o", "ControlPersist=no"]
    if host.vars.get("ansible_port") is not None:
        argv += ["-p", str(host.vars["ansible_port"])]
    if host.vars.get("ansible_user"):
        argv += ["-l", str(host.vars["ansible_user"])]
    if host.vars.get("ansible_ssh_private_key_file"):
        argv += ["-i", os.path.expanduser(str(host.vars["ansible_ssh_private_key_file"]))]
    return argv


def shell_argv(host: Host) -> list[str] | None:
    """The command that opens a shell on the host (None: run locally)."""
    connection = host.vars.get("ansible_connection", "ssh")
    if connection == "docker":
        return ["docker", "exec", "-i", host.address, "/bin/sh"]
    if connection == "local":
        return None
    if connection in ("ssh", "paramiko"):
        return ["ssh", "-T", *ssh_options(host), host.address, "/bin/sh"]
    raise InventoryError(f"host {host.name}: ansible_connection '{connection}' is not supported "
                         "(use docker, ssh or local)")


COMMANDS: collections.Counter[str] = collections.Counter()  # remote commands run, by host name


@functools.cache
def _cached(argv: tuple[str, ...] | None, name: str, become: bool, become_user: str | None) -> TestinfraHost:
    if argv is None:
        backend = testinfra.backend.get_backend("local://")
    else:
        backend = ShellBackend(PersistentShell(list(argv), name), sudo=become, sudo_user=become_user)
    host = TestinfraHost(backend)
    backend_run = backend.run

    def counted_run(command: str, *args, **kwargs):  # noqa: ANN202
        COMMANDS[name] += 1
        return backend_run(command, *args, **kwargs)

    backend.run = counted_run
    return host


def testinfra_host(host: Host) -> TestinfraHost:
    """The host's testinfra view; every command goes over one connection per process."""
    argv = shell_argv(host)
    become = str(host.vars.get("ansible_become", False)).lower() in ("true", "yes", "1")
    become_user = host.vars.get("ansible_become_user")
    return _cached(None if argv is None else tuple(argv), host.name, become, str(become_user) if become_user else None)


class HostUnreachableError(Exception):
    """The host cannot run commands; the message names host and cause."""


_REACHABILITY: dict[str, str | None] = {}


def reachability(host: Host) -> str | None:
    """None when the host runs a command, else a one-line cause (asked once per process)."""
    if host.name not in _REACHABILITY:
        _REACHABILITY[host.name] = _probe(host)
    return _REACHABILITY[host.name]


def probe(host: Host, timeout: float | None = None) -> str | None:
    """Ask the host now (uncached): None when it runs a command within
    ``timeout`` seconds (default: the command timeout), else the cause."""
    return _probe(host, timeout)


def _probe(host: Host, timeout: float | None = None) -> str | None:
    try:
        result = testinfra_host(host).run("true", **({"timeout": timeout} if timeout else {}))
    except Exception as exc:  # noqa: BLE001 - any backend failure means unreachable
        inner = exc.args[0] if exc.args else None  # testinfra raises RuntimeError(CommandResult)
        text = (getattr(inner, "stderr", None) or str(exc)).strip().splitlines() or [exc.__class__.__name__]
        return f"{host.name}: unreachable ({text[-1][:160]})"
    if result.rc != 0:
        cause = (result.stderr or result.stdout or f"exit status {result.rc}").strip().splitlines()
        return f"{host.name}: unreachable ({cause[-1][:160] if cause else result.rc})"
    return None
