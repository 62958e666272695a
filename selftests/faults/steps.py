"""What a fault is made of: a few step kinds, each turning into one command.

A step only says which command applies it (``argv``) and, where that is
derivable, which step undoes it (``undo``), so a revert is never written
twice. Running commands is the runner's job; the plan prints the same argv
without touching a container.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from deploycheck.stack import STACKS, compose_cmd


@dataclass(frozen=True)
class Service:
    """A compose service of a stack; its container changes when compose recreates it,
    so it is looked up when a step runs, not when the catalogue is written."""

    stack: str
    name: str

    def __str__(self) -> str:
        return f"{self.stack}:{self.name}"


Container = str | Service  # an IDR host's container name, or a compose service
Resolve = Callable[[Container], str]  # a container as the engine knows it (or as the plan prints it)


@dataclass(frozen=True)
class Run:
    """A shell command inside a container."""

    container: Container
    command: str

    def argv(self, resolve: Resolve) -> list[str]:
        return ["docker", "exec", resolve(self.container), "sh", "-c", self.command]

    def undo(self) -> None:
        return None


@dataclass(frozen=True)
class Edit:
    """Replace ``old`` by ``new`` in a file with sed, then run ``then`` (a reload).

    ``old`` is a sed pattern and ``new`` its replacement, each written so that it
    also matches the other's text (``\\*`` for a star): the undo swaps them.
    Neither may hold ``%`` (the delimiter) or a single quote.
    """

    container: Container
    path: str
    old: str
    new: str
    then: str = "true"

    @property
    def command(self) -> str:
        return f"sed -i 's%{self.old}%{self.new}%' {self.path} && {self.then}"

    def argv(self, resolve: Resolve) -> list[str]:
        return Run(self.container, self.command).argv(resolve)

    def undo(self) -> Edit:
        return replace(self, old=self.new, new=self.old)


@dataclass(frozen=True)
class Engine:
    """A docker engine action on one container (``stop``, ``network connect NET``):
    for things a command inside the container cannot do."""

    action: str
    container: Container

    def argv(self, resolve: Resolve) -> list[str]:
        return ["docker", *shlex.split(self.action), resolve(self.container)]

    def undo(self) -> Engine | None:
        """Stopping is undone by starting, connecting to a network by disconnecting."""
        if self.action == "stop":
            return replace(self, action="start")
        if self.action.startswith("network connect "):
            return replace(self, action=self.action.replace("connect", "disconnect", 1))
        return None


@dataclass(frozen=True)
class Compose:
    """A compose command on a stack's project, optionally with a further compose file.

    With ``override``, the undo is the same command without it: the stack's own
    files put the service back as it was.
    """

    stack: str
    args: str
    override: Path | None = None

    def argv(self, resolve: Resolve) -> list[str]:
        extra = ["-f", str(self.override)] if self.override else []
        return [*compose_cmd(STACKS[self.stack]), *extra, *shlex.split(self.args)]

    def undo(self) -> Compose | None:
        return replace(self, override=None) if self.override else None


@dataclass(frozen=True)
class Host:
    """A shell command on this machine, about one container (polling its health
    through the engine); ``{container}`` in the command names it."""

    command: str
    container: Container

    def argv(self, resolve: Resolve) -> list[str]:
        return ["sh", "-c", self.command.replace("{container}", resolve(self.container))]

    def undo(self) -> None:
        return None


Step = Run | Edit | Engine | Compose | Host


@dataclass(frozen=True)
class Fault:
    """One misconfiguration, the controls it must make fail, and how to take it back.

    ``revert`` None means: undo every apply step, last first (each must be
    derivable). ``restart_after`` containers are restarted once reverted, for
    faults no command takes back (a lazily unmounted volume).
    """

    name: str
    description: str
    expected: list[str]
    apply: list[Step]
    revert: list[Step] | None = None
    restart_after: list[str] = field(default_factory=list)
    pytest_args: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.revert is None and any(step.undo() is None for step in self.apply):
            raise ValueError(f"fault {self.name}: a step has no derivable undo; give the revert")

    def revert_steps(self) -> list[Step]:
        if self.revert is not None:
            return list(self.revert)
        return [undo for step in reversed(self.apply) if (undo := step.undo()) is not None]
