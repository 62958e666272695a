"""How each ``ansible_connection`` reaches a host: one small class per kind,
registered by name in one table. Each gives the argv of a shell on the host
and the argv of a relay to an inner address seen from it; nobody else
interprets connection variables. An unknown kind is refused when the
inventory loads (``problems``), not met later as an unreachable host."""

from __future__ import annotations

import functools
import os
import re
import shlex
from pathlib import Path

from deploycheck.inventory.loader import InventoryError, Node
from deploycheck.transport import sshstate

CONNECT_TIMEOUT = 10  # seconds, unless the inventory sets ansible_timeout
# What a host name or address may hold where it stands in the jump ProxyCommand deploycheck builds (the target
# as ssh's %h, the jump host and its user): a shell reads that command, and only ssh's own refusal of some
# characters in host names would otherwise keep the rest out
SSH_NAME = re.compile(r"[A-Za-z0-9._:\[\]%-]+")


class Local:
    """The controller itself: commands run here, inner addresses are reached as they are."""

    def shell_argv(self, host: Node) -> list[str] | None:
        return None

    def relay_argv(self, host: Node, target: str, port: int) -> list[str] | None:
        return None


class Docker:
    """A container of this machine's engine, named by ``ansible_host`` or the host name."""

    def shell_argv(self, host: Node) -> list[str] | None:
        return ["docker", "exec", "-i", "--", host.address, "/bin/sh"]

    def relay_argv(self, host: Node, target: str, port: int) -> list[str] | None:
        return ["docker", "exec", "-i", "--", host.address, "nc", "-N", "--", target, str(port)]


class Ssh:
    """OpenSSH with the inventory's connection variables; the host's shell and
    its relays share one connection per process (``ControlMaster``)."""

    def shell_argv(self, host: Node) -> list[str] | None:
        options = self.options(host)
        return ["ssh", "-T", *options, *_shared_jump(tuple(options), host.address), "--", host.address, "/bin/sh"]

    def relay_argv(self, host: Node, target: str, port: int) -> list[str] | None:
        options = self.options(host)
        return ["ssh", *options, *_shared_jump(tuple(options), host.address), "-W", f"{target}:{port}", "--",
                host.address]

    def control_socket(self, host: Node) -> Path | None:
        """Where the host's master connection listens (ssh's ``ControlPath``,
        tokens expanded), None when ssh cannot tell."""
        return sshstate.socket_path(tuple(self.options(host)), host.address)

    def jump_socket(self, host: Node) -> Path | None:
        """Where the connection to the host's jump host listens, if it has one (see ``_jump``)."""
        jump = _jump(tuple(self.options(host)), host.address)
        return sshstate.socket_path(jump[0][1:], jump[1]) if jump is not None else None

    @staticmethod
    def options(host: Node) -> list[str]:
        """Batch mode, so a missing key fails at once instead of prompting. The
        port is given only when the inventory sets it, so ~/.ssh/config applies
        otherwise. ssh keeps the first value it is given for an option: the
        inventory's own arguments come first."""
        argv = [arg for name in ("ansible_ssh_common_args", "ansible_ssh_extra_args")
                for arg in shlex.split(str(host.vars.get(name) or ""))]
        timeout = int(host.vars.get("ansible_timeout", CONNECT_TIMEOUT))
        argv += ["-o", "BatchMode=yes", "-o", f"ConnectTimeout={timeout}", *sshstate.control_options()]
        if host.vars.get("ansible_port") is not None:
            argv += ["-p", str(host.vars["ansible_port"])]
        if host.vars.get("ansible_user"):
            argv += ["-l", str(host.vars["ansible_user"])]
        if host.vars.get("ansible_ssh_private_key_file"):
            argv += ["-i", os.path.expanduser(str(host.vars["ansible_ssh_private_key_file"]))]
        return argv


@functools.cache
def _jump(options: tuple[str, ...], address: str) -> tuple[tuple[str, ...], str] | None:
    """The one jump host ssh's configuration names for the host (``ProxyJump``),
    as the argv of an ssh to it that shares this process's connection to it
    (``ControlPath``), and its name; None for chains, a ProxyCommand, a hop
    that looks like an option and anything ``ssh -G`` cannot resolve."""
    settings = sshstate.SETTINGS(options, address)
    jump = settings.get("proxyjump", "none")
    if jump == "none" or not jump or "," in jump or settings.get("proxycommand", "none") != "none":
        return None
    user, _, rest = jump.rpartition("@")
    name, _, port = rest.partition(":")
    if not name or name.startswith("-") or (port and not port.isdigit()) or user.startswith("-") \
            or not SSH_NAME.fullmatch(name) or (user and not SSH_NAME.fullmatch(user)):
        return None
    config = [a for i, a in enumerate(options) if a.startswith("-F") or (i and options[i - 1] == "-F")]
    argv = ("ssh", *config, "-o", "BatchMode=yes", *sshstate.control_options(), *(["-l", user] if user else []),
            *(["-p", port] if port else []))
    return argv, name


@functools.cache
def _shared_jump(options: tuple[str, ...], address: str) -> list[str]:
    """Where ssh's configuration reaches the host through one jump host
    (``ProxyJump``), the same hop as a ``ProxyCommand`` that shares this
    process's connection to the jump host (``ControlPath``): inner hosts
    then cost the jump host a channel, not a login each, and a burst of
    them is not cut off by its sshd's MaxStartups. Chains, ProxyCommand and
    anything ``ssh -G`` cannot resolve are left to ssh as configured."""
    jump = _jump(options, address)
    if jump is None:
        return []
    argv, name = jump
    # ssh expands %-tokens in a ProxyCommand: ours (%C of the ControlPath) are escaped, the target's are not
    escaped = " ".join(shlex.quote(a).replace("%", "%%") for a in argv)
    return ["-o", f"ProxyCommand={escaped} -W '[%h]:%p' -- {shlex.quote(name).replace('%', '%%')}"]


_WHOLE = re.compile(r"[0-9]{1,9}")


def _whole(value: object, low: int, high: int) -> bool:
    """A whole number from ``low`` to ``high``, written as one: ``22`` or ``'22'``, not ``true``, ``2.5``, ``' 22'``."""
    if isinstance(value, str) and _WHOLE.fullmatch(value):
        value = int(value)
    return type(value) is int and low <= value <= high


def check_connection_vars(host: Node) -> None:
    """The rendered connection variables as ssh is given them (``Ssh.options``),
    checked when the inventory loads: a value ssh's argv cannot be built
    from stops the run with one line instead of failing each control."""
    for name in ("ansible_ssh_common_args", "ansible_ssh_extra_args"):
        try:
            shlex.split(str(host.vars.get(name) or ""))
        except ValueError as exc:
            # the value is not shown: options such as sshpass's -p carry passwords
            raise InventoryError(f"{host.name}: {name} cannot be split into arguments ({exc})") from None
    if "ansible_timeout" in host.vars and not _whole(host.vars["ansible_timeout"], 1, 86400):
        raise InventoryError(f"{host.name}: ansible_timeout '{str(host.vars['ansible_timeout'])[:80]}' is not a whole "
                             "number of seconds from 1 to 86400")
    if host.vars.get("ansible_port") is not None and not _whole(host.vars["ansible_port"], 1, 65535):
        raise InventoryError(f"{host.name}: ansible_port '{str(host.vars['ansible_port'])[:80]}' is not a port number "
                             "(1 to 65535)")


Connection = Local | Docker | Ssh
CONNECTIONS: dict[str, Connection] = {"local": Local(), "docker": Docker(), "ssh": Ssh(), "paramiko": Ssh()}


def connection_of(host: Node) -> Connection:
    """The host's connection kind (``ssh`` when the inventory names none)."""
    name = str(host.vars.get("ansible_connection", "ssh"))
    if name not in CONNECTIONS:
        raise InventoryError(f"host {host.name}: ansible_connection '{name}' is not supported "
                             f"(use {', '.join(sorted(CONNECTIONS))})")
    return CONNECTIONS[name]


def problems(host: Node) -> list[str]:
    """What keeps deploycheck from reaching the host, found before any control runs."""
    try:
        connection = connection_of(host)
    except InventoryError as exc:
        return [str(exc).removeprefix(f"host {host.name}: ") + f" for {host.name}"]
    key = host.vars.get("ansible_ssh_private_key_file")
    if isinstance(connection, Ssh) and key and not Path(os.path.expanduser(str(key))).is_file():
        return [f"ansible_ssh_private_key_file {key} of {host.name} is not a file"]
    return _name_problems(host) if isinstance(connection, Ssh) else []


def _jump_hops(host: Node) -> list[str]:
    """The hops ``-J`` or ``-o ProxyJump=`` of the inventory's ssh arguments name ([user@]host[:port] each)."""
    argv = [arg for name in ("ansible_ssh_common_args", "ansible_ssh_extra_args")
            for arg in _split(host.vars.get(name))]
    jumps = []
    for arg, following in zip(argv, [*argv[1:], ""], strict=False):
        if arg.startswith("-J"):
            jumps.append(arg[2:] or following)
        option = (arg[2:] or following) if arg.startswith("-o") else ""
        key, _, value = option.replace("=", " ", 1).partition(" ")
        if key.lower() == "proxyjump":
            jumps.append(value.strip())
    return [hop.removeprefix("ssh://") for jump in jumps for hop in jump.split(",") if hop and hop.lower() != "none"]


def _split(value: object) -> list[str]:
    try:
        return shlex.split(str(value or ""))
    except ValueError:
        return []


def _name_problems(host: Node) -> list[str]:
    """Host names, addresses and jump hops that hold more than a name may (see ``SSH_NAME``)."""
    names = [("ansible_host" if "ansible_host" in host.vars else "host name", host.address)]
    for hop in _jump_hops(host):
        user, _, rest = hop.rpartition("@")
        names += [("jump host", rest.rpartition(":")[0] if rest.count(":") == 1 else rest)]
        names += [("jump user", user)] if user else []
    return [f"{what} {str(name)[:60]!r} of {host.name} holds characters other than letters, digits and .-_:[]%"
            for what, name in names if not SSH_NAME.fullmatch(str(name))]


