"""Observations as named questions, asked once per host and process.

A ``Question`` knows how to build its ask for a host (a remote command, a
request through the public site, a probe from the vantage point outside),
who sends asks of its kind (its ``Asker``: several asks of one kind and
place go in one exchange), how to parse the answer, and the question whose
answer it is built from, if any. Answers are kept by question and host:
the control that reads a question and the planner that asked it early
(see ``planner``) name the same object, never a string both must spell
alike. A question whose ask is on its way is waited for, not sent twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from deploycheck.facts import hostfacts
from deploycheck.inventory.loader import Node, cut

WAIT_S = hostfacts.AHEAD_WAIT_S  # a control waits this long at most for a question asked early


class Asker(Protocol):
    """Who sends asks of one kind: every ask of one ``place`` goes in one exchange."""

    def place(self, node: Node) -> str:
        """Where ``node``'s asks of this kind go (a host, a site, a vantage point)."""
        ...

    def ask_many(self, asked: list[tuple[Node, Any]], early: bool) -> list[Any]:
        """The raw answer of each (node, ask) of one place, in order; an
        answer may be an exception, raised where a control reads it.
        ``early``: the planner asks, no control waits on this exchange."""
        ...


def _as_is(node: Node, raw: Any) -> Any:
    return raw


@dataclass(frozen=True, eq=False)
class Question:
    """One observation. ``build(node)`` (or ``build(node, answer of after)``)
    gives the ask, None when there is nothing to ask on that host;
    ``parse(node, raw)`` turns the raw answer into what controls read.
    Compared by identity: a factory of parametrized questions memoizes them."""

    name: str
    build: Callable[..., Any]
    asker: Asker
    parse: Callable[[Node, Any], Any] = _as_is
    after: Question | None = None

    def ask_of(self, node: Node) -> Any:
        """This question's ask on ``node`` (its dependency asked first if need be)."""
        return self.build(node) if self.after is None else self.build(node, ask(self.after, node))

    def __repr__(self) -> str:
        return f"Question({self.name})"


_NOTHING = object()  # the raw answer of a question with nothing to ask on a host
UNKNOWN = object()  # a raw answer an early exchange could not give: not kept, the control asks itself
_LOCK = threading.Lock()
_ANSWERS: dict[tuple[Question, str], Any] = {}
_PENDING: dict[tuple[Question, str], threading.Event] = {}
PLANNING = threading.local()  # ``PLANNING.early`` is true in the planner's threads: they never wait on themselves
ASKED: list[tuple[Question, str]] = []  # every (question, host) a control asked, for the unit tests' audit
AUDIT = threading.local()  # ``AUDIT.on``: record what is asked in ``ASKED``


def forget(node: Node) -> None:
    """Drop a host's answers (a control changed something there)."""
    with _LOCK:
        for key in [k for k in _ANSWERS if k[1] == node.name]:
            del _ANSWERS[key]


hostfacts.ON_FORGET.append(forget)


def known(question: Question, node: Node) -> bool:
    with _LOCK:
        return (question, node.name) in _ANSWERS


def pending(node: Node, questions: Iterable[Question]) -> threading.Event:
    """Mark ``questions`` as on their way for ``node``: ``ask`` waits for the
    event (set by the planner once they are in, or given up)."""
    done = threading.Event()
    with _LOCK:
        for question in questions:
            _PENDING.setdefault((question, node.name), done)
    return done


def ask(question: Question, node: Node) -> Any:
    """The parsed answer of ``question`` on ``node``: from memory, after
    waiting for it when it is on its way, else asked now."""
    return ask_together(node, [question])[0]


def ask_together(node: Node, questions: list[Question]) -> list[Any]:
    """The parsed answers of ``questions`` on ``node``; those not known yet
    are asked together, one exchange per place (their dependencies first)."""
    if getattr(AUDIT, "on", False):
        ASKED.extend((q, node.name) for q in questions)
    early = getattr(PLANNING, "early", False)
    if not early:
        for question in questions:
            with _LOCK:
                waiting = _PENDING.get((question, node.name))
            if waiting is not None:
                waiting.wait(WAIT_S)
    missing = [q for q in dict.fromkeys(questions) if not known(q, node)]
    if missing:
        store(node, dict(zip(missing, raw_answers(node, missing, early), strict=True)))
    with _LOCK:
        raws = [_ANSWERS[(q, node.name)] for q in questions]
    return [_parsed(q, node, raw) for q, raw in zip(questions, raws, strict=True)]


def raw_answers(node: Node, questions: list[Question], early: bool) -> list[Any]:
    """Each question's raw answer, asked together: one ``ask_many`` per asker and place."""
    asks = [question.ask_of(node) for question in questions]
    answers: list[Any] = [_NOTHING] * len(questions)
    groups: dict[tuple[int, str], list[int]] = {}
    for i, (question, asked) in enumerate(zip(questions, asks, strict=True)):
        if asked is not None:
            groups.setdefault((id(question.asker), question.asker.place(node)), []).append(i)
    for indexes in groups.values():
        asker = questions[indexes[0]].asker
        for i, answer in zip(indexes, asker.ask_many([(node, asks[i]) for i in indexes], early), strict=True):
            answers[i] = answer
    return answers


def nothing() -> object:
    """The raw answer of a question with nothing to ask on a host (its controls read None)."""
    return _NOTHING


def store(node: Node, answers: dict[Question, Any]) -> None:
    """Keep raw answers; a question already answered keeps its answer."""
    with _LOCK:
        for question, raw in answers.items():
            if raw is not UNKNOWN:
                _ANSWERS.setdefault((question, node.name), raw)


def _parsed(question: Question, node: Node, raw: Any) -> Any:
    if raw is _NOTHING:
        return None
    if isinstance(raw, BaseException):
        raise raw
    return question.parse(node, raw)


class Commands:
    """Remote commands, one pipelined exchange per host (``run_many``);
    the answers are ``hostfacts``' (rc, stdout, stderr), kept there too, so
    that facts helpers reading the same command share them."""

    def place(self, node: Node) -> str:
        return f"host:{node.name}"

    def ask_many(self, asked: list[tuple[Node, Any]], early: bool) -> list[Any]:
        """An ask is a command, or a list of them (answered by the list of their answers)."""
        node = asked[0][0]
        commands = [c for _, a in asked for c in ([a] if isinstance(a, str) else a)]
        if early:
            missing = [c for c in dict.fromkeys(commands) if not hostfacts.known(node, c)]
            if missing:
                hostfacts.store(node, dict(zip(missing, hostfacts.run_many(node, missing), strict=True)))
        said = iter([Said(*answer, command) for answer, command in
                     zip(hostfacts.commands(node, commands), commands, strict=True)])
        return [next(said) if isinstance(a, str) else [next(said) for _ in a] for _, a in asked]


COMMANDS = Commands()


def command(name: str, build: Callable[..., str | list[str] | None], parse: Callable[[Node, Any], Any] = _as_is,
            after: Question | None = None) -> Question:
    """A question asked as one remote command on the control's host."""
    return Question(name, build, COMMANDS, parse, after)


class Said(NamedTuple):
    """A command's answer, with the command (named when it failed)."""

    rc: int
    out: str
    err: str
    command: str

    def output(self, node: Node) -> str:
        """stdout, or the failure ``hostfacts.output`` reports."""
        if self.rc != 0:
            raise AssertionError(f"{node.name}: '{self.command}' failed ({self.rc}): {cut(self.err.strip(), 200)}")
        return self.out
