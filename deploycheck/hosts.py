"""Reaching an inventory host: testinfra backends chosen from Ansible's
connection variables, one cached connection per host and process."""

from __future__ import annotations

import collections
import functools

import testinfra
from testinfra.host import Host as TestinfraHost

from deploycheck.inventory import Host, InventoryError

CONNECT_TIMEOUT = 10


def backend_spec(host: Host) -> tuple[str, dict[str, object]]:
    """testinfra host spec and keyword arguments for an inventory host."""
    connection = host.vars.get("ansible_connection", "ssh")
    address = host.address
    if connection == "docker":
        return f"docker://{address}", {}
    if connection == "local":
        return "local://", {}
    if connection in ("ssh", "paramiko"):
        user = host.vars.get("ansible_user")
        port = host.vars.get("ansible_port", 22)
        target = f"{user}@{address}" if user else address
        kwargs: dict[str, object] = {"timeout": int(host.vars.get("ansible_timeout", CONNECT_TIMEOUT)),
                                     "controlpersist": 120}
        key = host.vars.get("ansible_ssh_private_key_file")
        if key:
            kwargs["ssh_identity_file"] = str(key)
        return f"ssh://{target}:{port}", kwargs
    raise InventoryError(f"host {host.name}: ansible_connection '{connection}' is not supported "
                         "(use docker, ssh or local)")


COMMANDS: collections.Counter[str] = collections.Counter()  # remote commands run, by host name


@functools.cache
def _cached(spec: str, frozen_kwargs: tuple[tuple[str, object], ...], name: str) -> TestinfraHost:
    host = testinfra.get_host(spec, **dict(frozen_kwargs))
    backend_run = host.backend.run

    def counted_run(command: str, *args, **kwargs):  # noqa: ANN202
        COMMANDS[name] += 1
        return backend_run(command, *args, **kwargs)

    host.backend.run = counted_run
    return host


def testinfra_host(host: Host) -> TestinfraHost:
    spec, kwargs = backend_spec(host)
    return _cached(spec, tuple(sorted(kwargs.items())), host.name)


class HostUnreachableError(Exception):
    """The host cannot run commands; the message names host and cause."""


_REACHABILITY: dict[str, str | None] = {}


def reachability(host: Host) -> str | None:
    """None when the host runs a command, else a one-line cause (asked once per process)."""
    if host.name not in _REACHABILITY:
        _REACHABILITY[host.name] = _probe(host)
    return _REACHABILITY[host.name]


def probe(host: Host) -> str | None:
    """Ask the host now (uncached): None when it runs a command, else the cause."""
    return _probe(host)


def _probe(host: Host) -> str | None:
    try:
        result = testinfra_host(host).run("true")
    except Exception as exc:  # noqa: BLE001 - any backend failure means unreachable
        inner = exc.args[0] if exc.args else None  # testinfra raises RuntimeError(CommandResult)
        text = (getattr(inner, "stderr", None) or str(exc)).strip().splitlines() or [exc.__class__.__name__]
        return f"{host.name}: unreachable ({text[-1][:160]})"
    if result.rc != 0:
        cause = (result.stderr or result.stdout or f"exit status {result.rc}").strip().splitlines()
        return f"{host.name}: unreachable ({cause[-1][:160] if cause else result.rc})"
    return None
