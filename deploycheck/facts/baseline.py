"""The host facts most controls read through facts helpers (listeners,
units, paths, nginx and sshd settings, OMERO.server's and the
microservice's state, the pages services answer on the host's own ports),
as questions the planner asks on every selected host: the helpers that
read them are shared by many controls, which do not name them in
``reads=``. Only read-only commands."""

from __future__ import annotations

import contextlib

from deploycheck.facts import hostfacts, hostpages, java, listeners, nginx, omeroserver, sshd, systemd
from deploycheck.facts.question import Question, Said, command
from deploycheck.inventory.loader import Node
from deploycheck.inventory.variables import expect


def _units(node: Node) -> str | None:
    units = systemd.inventory_units(node)
    return systemd.properties_command(units, systemd.PROPERTIES) if units else None


def _stats(node: Node) -> str | None:
    paths = hostfacts.inventory_paths(node)
    return hostfacts.stat_command(paths) if paths else None


def _omero(node: Node) -> list[str] | None:
    if node.has_role("omeroreadonly") or node.has_role("omeroreadwrite"):
        return [omeroserver.version_command(node), omeroserver.grid_command(node)]
    return None


def _ms_host(node: Node) -> list[str] | None:
    if not node.has_role("omeroreadonly"):  # the microservice's host
        return None
    return [hostfacts.writable_command(expect(node, "omero_user"), expect(node, "omero_data_dir")),
            java.processes_command(expect(node, "ms_unit")), java.environment_command(expect(node, "ms_unit"))]


def _cgroups(node: Node, said: Said) -> str | None:
    try:
        pids = [pid for sock in listeners.listening_tcp(node) for _, pid in sock.processes]
    except AssertionError:  # ss failed; its control says so
        return None
    return listeners.cgroups_command(pids) if pids else None


def _omero_logs(node: Node, said: list[Said] | None) -> list[str] | None:
    folder = omeroserver.log_dir(node) if said else None
    if not folder:
        return None
    return [omeroserver.logs_command(folder)] + ([omeroserver.mount_command(folder)]
                                                 if expect(node, "omero_logs_mount") else [])


def _java_second(node: Node, said: list[Said] | None) -> str | None:
    if not said:
        return None
    with contextlib.suppress(AssertionError):  # processes or environment unreadable: its control says so
        return java.second_command(node, expect(node, "ms_unit"))
    return None


listening = command("listeners", lambda node: listeners.COMMAND)
unit_states = command("unit_states", lambda node: systemd.STATE_COMMAND)
addresses = command("addresses", lambda node: hostfacts.ADDRESSES)
hosts_file = command("hosts_file", lambda node: hostfacts.HOSTS_FILE)
unit_properties = command("unit_properties", _units)
inventory_paths = command("inventory_paths", _stats)
nginx_config = command("nginx_config", lambda node: nginx.COMMAND if "nginx.service" in systemd.inventory_units(node)
                       else None)
sshd_config = command("sshd_config", lambda node: sshd.commands() if node.has_role("proxy") else None)
omero_state = command("omero_state", _omero)
ms_host = command("ms_host", _ms_host)
host_pages = command("host_pages", lambda node: hostpages.role_pages(node) or None)
listener_cgroups = command("listener_cgroups", _cgroups, after=listening)
omero_logs = command("omero_logs", _omero_logs, after=omero_state)
java_runtime = command("java_runtime", _java_second, after=ms_host)

QUESTIONS: tuple[Question, ...] = (listening, unit_states, addresses, hosts_file, unit_properties, inventory_paths,
                                   nginx_config, sshd_config, omero_state, ms_host, host_pages, listener_cgroups,
                                   omero_logs, java_runtime)
