"""Asking, when the run starts, every question the selected controls will read.

Over a slow link every remote command and HTTP request is a round trip,
and controls run one after the other. The planner collects the questions
the selected controls declare (``@control(..., reads=...)``) and the
baseline facts most controls read through facts helpers, groups them by
place (a host, the public site, the vantage point outside) and, one
thread per place, all places at once, asks each place's questions
together, stage by stage: a question whose dependency is answered goes in
the next exchange. Controls then find the answers kept by question,
waiting for those still on their way. A question that cannot be built or
asked here is left for its control to ask and report.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from deploycheck.facts import baseline, hostfacts, question
from deploycheck.facts.question import Question
from deploycheck.inventory.loader import Node
from deploycheck.transport.remote import reachability

Pair = tuple[Node, Question]
# a question that cannot be built or asked early (a fact it is built from failed its control): its control reports why
_GIVE_UP = (Exception, pytest.fail.Exception, pytest.skip.Exception)


def expand(node: Node, reads: Iterable[Any]) -> list[Question]:
    """The questions ``reads`` names on ``node`` (a factory gives a host's
    questions), each preceded by the questions it depends on."""
    found: list[Question] = []
    for read in reads:
        if isinstance(read, Question):
            chosen = [read]
        else:
            try:
                chosen = list(read(node))
            except _GIVE_UP:
                continue
        for one in chosen:
            chain: list[Question] = []
            step: Question | None = one
            while step is not None:
                chain.insert(0, step)
                step = step.after
            found += [q for q in chain if q not in found]
    return found


def on_host(node: Node, reads: Iterable[Any]) -> bool:
    """Whether a question ``reads`` names on ``node`` is asked over ``node``'s
    own shell (its place is the host itself): if so, an unreachable host
    leaves the control nothing to observe."""
    for q in expand(node, reads):
        with contextlib.suppress(*_GIVE_UP):
            if q.asker.place(node) == f"host:{node.name}":
                return True
    return False


def plan(wanted: Iterable[tuple[Node, Iterable[Any]]], base: Iterable[Question] = baseline.QUESTIONS
         ) -> dict[str, list[Pair]]:
    """Every (host, question) to ask, by place; each host also gets ``base``."""
    places: dict[str, list[Pair]] = {}
    seen: set[tuple[str, Question]] = set()
    by_host: dict[str, tuple[Node, list[Any]]] = {}
    for node, reads in wanted:
        by_host.setdefault(node.name, (node, list(base)))[1].extend(reads)
    for node, reads in by_host.values():
        for q in expand(node, reads):
            if (node.name, q) in seen:
                continue
            seen.add((node.name, q))
            try:
                place = q.asker.place(node)
            except _GIVE_UP:
                continue
            places.setdefault(place, []).append((node, q))
    return places


def _stages(pairs: list[Pair]) -> Iterable[list[Pair]]:
    """The place's questions in exchanges: each once its dependency is answered (or
    not asked here: the question's own build waits for it or asks it)."""
    todo = list(pairs)
    while todo:
        waiting = {(n.name, q) for n, q in todo}
        ready = [(n, q) for n, q in todo if q.after is None or (n.name, q.after) not in waiting]
        ready = ready or todo
        todo = [p for p in todo if p not in ready]
        yield ready


def ask_place(place: str, pairs: list[Pair]) -> None:
    """Ask one place's questions, stage by stage, in this thread (which
    waits on no answer meanwhile: it is the one giving them)."""
    question.PLANNING.early = hostfacts.ASKER.ahead = True
    try:
        _ask_stages(place, pairs)
    finally:
        question.PLANNING.early = hostfacts.ASKER.ahead = False


def _ask_stages(place: str, pairs: list[Pair]) -> None:
    host = _host_of(place, pairs)
    if host is not None and reachability(host) is not None:
        return  # opens the connection; the controls report the cause
    for stage in _stages(pairs):
        asks: list[tuple[Node, Question, Any]] = []
        for node, q in stage:
            if question.known(q, node):
                continue
            with contextlib.suppress(*_GIVE_UP):
                asks.append((node, q, q.ask_of(node)))
        for asker in dict.fromkeys(q.asker for _, q, _ in asks):
            mine = [(n, q, a) for n, q, a in asks if q.asker is asker]
            nothing = [(n, q) for n, q, a in mine if a is None]
            sent = [(n, q, a) for n, q, a in mine if a is not None]
            for n, q in nothing:
                question.store(n, {q: question.nothing()})
            if sent:
                answers = asker.ask_many([(n, a) for n, _, a in sent], True)
                for (n, q, _), raw in zip(sent, answers, strict=True):
                    question.store(n, {q: raw})


def _host_of(place: str, pairs: list[Pair]) -> Node | None:
    """The host a ``host:`` place asks its own questions of, if any."""
    return next((n for n, _ in pairs if place == f"host:{n.name}"), None)


def _run(place: str, pairs: list[Pair], done: list[threading.Event]) -> None:
    try:
        ask_place(place, pairs)
    except (RuntimeError, OSError, TimeoutError, AssertionError):
        pass  # the connection failed mid-way: each control asks again and reports it
    finally:
        for event in done:
            event.set()


def start(wanted: Iterable[tuple[Node, Iterable[Any]]], base: Iterable[Question] = baseline.QUESTIONS,
          runner: Callable[[str, list[Pair], list[threading.Event]], None] = _run) -> list[threading.Thread]:
    """Ask every place's questions, each place in its own thread, all at once."""
    threads = []
    for place, pairs in plan(wanted, base).items():
        done = [question.pending(node, [q for n, q in pairs if n.name == node.name])
                for node in {n.name: n for n, _ in pairs}.values()]
        host = _host_of(place, pairs)
        if host is not None:
            host_done = hostfacts.asking_ahead(host)  # facts helpers reading a command wait too
            if host_done.is_set():
                continue
            done.append(host_done)
        thread = threading.Thread(target=runner, args=(place, pairs, done), name=f"planner-{place}", daemon=True)
        thread.start()
        threads.append(thread)
    return threads
