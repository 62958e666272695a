"""Observations as questions: answers kept by question and host, asked
together one exchange per place, waited for while on their way; the
planner asks the declared questions stage by stage (a dependent question
in the next exchange), leaves a question it cannot build to its control,
and follows the inventory; the public site's GETs of one exchange are sent
together, each error given in its place."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from deploycheck.facts import baseline, nginx, planner, question, sshd
from deploycheck.facts.proxy import Proxy, Request
from deploycheck.facts.question import Question
from deploycheck.inventory import roles
from deploycheck.inventory.loader import Node, load
from deploycheck.transport.http import Client

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 10.0
_MADE: list[Node] = []


class _Asker:
    """Answers every ask with its text (an error for "bad"), recording each exchange."""

    def __init__(self) -> None:
        self.exchanges: list[list[Any]] = []

    def place(self, node: Node) -> str:
        return f"fake:{node.name}"

    def ask_many(self, asked: list[tuple[Node, Any]], early: bool) -> list[Any]:
        self.exchanges.append([a for _, a in asked])
        return [ValueError(a) if a == "bad" else f"<{a}>" for _, a in asked]


def _node(name: str) -> Node:
    node = Node(name)
    _MADE.append(node)
    return node


@pytest.fixture(autouse=True)
def _forget() -> Iterator[None]:
    yield
    for node in _MADE:
        question.forget(node)
    _MADE.clear()


def test_answers_are_kept_by_question_and_asked_together_once() -> None:
    asker = _Asker()
    one, two = Question("one", lambda n: "a", asker), Question("two", lambda n: "b", asker, lambda n, raw: raw.upper())
    node = _node("unit-q1")
    assert question.ask_together(node, [one, two, one]) == ["<a>", "<B>", "<a>"]
    assert question.ask(two, node) == "<B>" and asker.exchanges == [["a", "b"]]
    same_text = Question("same text", lambda n: "a", asker)  # another question: its own answer
    assert question.ask(same_text, node) == "<a>" and len(asker.exchanges) == 2


def test_an_error_is_raised_where_the_answer_is_read_and_nothing_asked_is_none() -> None:
    asker = _Asker()
    bad, none = Question("bad", lambda n: "bad", asker), Question("none", lambda n: None, asker)
    node = _node("unit-q2")
    with pytest.raises(ValueError, match="bad"):
        question.ask(bad, node)
    assert question.ask(none, node) is None and asker.exchanges == [["bad"]]


def test_a_control_waits_for_a_question_on_its_way() -> None:
    asker = _Asker()
    slow = Question("slow", lambda n: "x", asker)
    node = _node("unit-q3")
    done = question.pending(node, [slow])

    def answer_later() -> None:
        time.sleep(0.2)
        question.store(node, {slow: "early"})
        done.set()

    threading.Thread(target=answer_later).start()
    assert question.ask(slow, node) == "early" and not asker.exchanges


def test_the_planner_asks_stage_by_stage_and_leaves_what_it_cannot_build() -> None:
    asker = _Asker()
    first = Question("first", lambda n: "1", asker)
    then = Question("then", lambda n, answer: f"after {answer}", asker, after=first)

    def unbuildable(node: Node) -> str:
        raise KeyError("no such variable")

    def from_a_failed_fact(node: Node) -> str:
        pytest.fail("the public session failed")

    broken = Question("broken", unbuildable, asker)
    failed = Question("failed", from_a_failed_fact, asker)
    node = _node("unit-q4")
    planner.ask_place("fake:unit-q4", planner.plan([(node, [failed, then, broken])], base=())["fake:unit-q4"])
    assert asker.exchanges == [["1"], ["after <1>"]]  # the dependency first, the dependent in the next exchange
    assert question.known(then, node) and not question.known(broken, node)
    with pytest.raises(KeyError):
        question.ask(broken, node)  # its control asks it and reports why


def test_the_planner_groups_every_host_s_questions_by_place() -> None:
    asker = _Asker()
    q = Question("q", lambda n: n.name, asker)
    a, b = _node("unit-a"), _node("unit-b")
    places = planner.plan([(a, [q]), (b, [q]), (a, [q])], base=())
    assert sorted(places) == ["fake:unit-a", "fake:unit-b"] and places["fake:unit-a"] == [(a, q)]
    for thread in planner.start([(a, [q]), (b, [q])], base=()):
        thread.join(WAIT_S)
    assert question.ask(q, a) == "<unit-a>" and question.ask(q, b) == "<unit-b>"
    assert sorted(asker.exchanges) == [["unit-a"], ["unit-b"]]


def test_baseline_questions_follow_the_inventory() -> None:
    inv = load([ROOT / "inventories" / "reference-idr.yml"])
    roles.assign(inv, {})
    proxy, database, readonly = inv.group("proxy")[0], inv.group("database")[0], inv.group("omeroreadonly")[0]
    assert baseline.nginx_config.ask_of(proxy) == nginx.COMMAND
    assert baseline.sshd_config.ask_of(proxy) == sshd.commands()
    assert baseline.nginx_config.ask_of(database) is None and baseline.sshd_config.ask_of(database) is None
    assert baseline.ms_host.ask_of(readonly) and baseline.ms_host.ask_of(database) is None
    assert (proxy, baseline.listener_cgroups) in planner.plan([(proxy, [])])[f"host:{proxy.name}"]


class _Site(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, together: int) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.paths: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.barrier = threading.Barrier(together) if together > 1 else None


class _Handler(BaseHTTPRequestHandler):
    server: _Site

    def do_GET(self) -> None:
        path = self.path.split("&dc=")[0].split("?dc=")[0]
        with self.server.lock:
            self.server.paths.append((path, self.headers.get("Cookie", "")))
            count = len(self.server.paths)
        if self.server.barrier is not None:
            self.server.barrier.wait(WAIT_S)  # breaks unless every request is on its way at once
        body = f"{path} #{count}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


def _proxy(port: int) -> Proxy:
    node = Node("proxy")
    return Proxy(node, node, Client(f"http://127.0.0.1:{port}"))


def test_site_gets_are_sent_together_with_the_cookies_each_names() -> None:
    site = _Site(together=3)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    try:
        answers = _proxy(site.server_address[1]).fetch_all(
            [Request("/a", {"sessionid": "public"}), Request("/b", None), Request("/c", {}, fresh=False)])
        assert [a.status_code for a in answers] == [200, 200, 200]  # all three met at the barrier
        assert sorted(site.paths) == [("/a", "sessionid=public"), ("/b", ""), ("/c", "")]
    finally:
        site.shutdown()


def test_a_failed_get_gives_its_error_in_its_place() -> None:
    site = _Site(together=1)
    port = site.server_address[1]
    site.server_close()  # nothing listens there now
    (answer,) = _proxy(port).fetch_all([Request("/a")])
    assert isinstance(answer, requests.ConnectionError)
