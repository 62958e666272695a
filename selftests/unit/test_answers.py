"""The controller answers the workers' warm-up once per run: a question two
workers ask reaches the host once; a host that fails, a host it does not
know or a request too large get no answer, and the worker asks itself."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from deploycheck.inventory.loader import Node
from deploycheck.transport.answers import (
    MAX_REQUEST_BYTES,
    SOCKET_NAME,
    AnswerServer,
    ask_controller,
    ask_reachability,
)

HOSTS = {"web": Node("web", {}), "db": Node("db", {})}


class Recording:
    """A stand-in for the hosts: records what it is asked, answers with the question's length."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, list[str]]] = []
        self.lock = threading.Lock()

    def __call__(self, node: Node, questions: list[str]) -> list[tuple[int, str, str]]:
        with self.lock:
            self.asked.append((node.name, list(questions)))
        if node.name == "db":
            raise RuntimeError("connection closed")
        return [(0, f"{len(q)}\n", "") for q in questions]


@pytest.fixture
def served(tmp_path: Path):
    folder = tmp_path / "control"
    folder.mkdir(mode=0o700)
    hosts = Recording()
    server = AnswerServer(folder, HOSTS, hosts)
    yield folder, hosts
    server.close()
    assert not (folder / SOCKET_NAME).exists()


def test_each_question_reaches_the_host_once(served) -> None:
    folder, hosts = served
    first = ask_controller(folder, HOSTS["web"], ["ss -Htlnp", "id"], timeout=5)
    second = ask_controller(folder, HOSTS["web"], ["id", "uname -a"], timeout=5)
    assert first == [(0, "9\n", ""), (0, "2\n", "")]
    assert second == [(0, "2\n", ""), (0, "8\n", "")]
    assert hosts.asked == [("web", ["ss -Htlnp", "id"]), ("web", ["uname -a"])]


def test_workers_asking_at_once_cost_one_exchange(served) -> None:
    folder, hosts = served
    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(ask_controller(folder, HOSTS["web"], ["a", "b"], 5)))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert results == [[(0, "1\n", ""), (0, "1\n", "")]] * 4
    assert hosts.asked == [("web", ["a", "b"])]


def test_no_answer_when_the_host_fails_or_is_unknown(served) -> None:
    folder, hosts = served
    assert ask_controller(folder, HOSTS["db"], ["true"], timeout=5) is None
    assert ask_controller(folder, Node("elsewhere", {}), ["true"], timeout=5) is None
    assert ask_controller(folder, HOSTS["db"], ["true"], timeout=5) is None  # a failure is not remembered
    assert hosts.asked == [("db", ["true"]), ("db", ["true"])]


def test_no_controller_means_no_answer(tmp_path: Path) -> None:
    assert ask_controller(tmp_path, HOSTS["web"], ["true"], timeout=1) is None


def test_oversized_or_malformed_requests_are_refused(served) -> None:
    folder, hosts = served
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(5)
        conn.connect(str(folder / SOCKET_NAME))
        conn.sendall(b'{"host": "web", "questions": "' + b"x" * (MAX_REQUEST_BYTES + 10) + b'"]}\n')
        assert conn.recv(100) == b""  # closed without an answer
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(5)
        conn.connect(str(folder / SOCKET_NAME))
        conn.sendall(b'{"host": "web", "questions": [1, 2]}\n')
        assert b"error" in conn.recv(1000)
    assert hosts.asked == []


def test_reachability_is_the_controllers_verdict(tmp_path: Path) -> None:
    """A worker learns whether a host runs commands without a channel of its
    own; the controller's verdict (its own probe, made once) is passed on."""
    asked: list[str] = []

    def reach(node: Node) -> str | None:
        asked.append(node.name)
        return "db: unreachable (Connection refused)" if node.name == "db" else None

    server = AnswerServer(tmp_path, HOSTS, Recording(), reach)
    try:
        assert ask_reachability(tmp_path, HOSTS["web"], timeout=5) == (True, None)
        assert ask_reachability(tmp_path, HOSTS["db"], timeout=5) == (True, "db: unreachable (Connection refused)")
        assert ask_reachability(tmp_path, Node("elsewhere", {}), timeout=5) == (False, None)
    finally:
        server.close()
    assert asked == ["web", "db"]


def test_no_verdict_without_a_judge(served, tmp_path: Path) -> None:
    folder, hosts = served  # a controller that does not answer reachability
    assert ask_reachability(folder, HOSTS["web"], timeout=5) == (False, None)
    assert ask_reachability(tmp_path, HOSTS["web"], timeout=1) == (False, None)  # no controller at all
    assert hosts.asked == []


def test_socket_is_private(served) -> None:
    folder, _ = served
    assert (folder / SOCKET_NAME).stat().st_mode & 0o077 == 0


def test_a_sharing_worker_opens_no_channel_to_learn_reachability(tmp_path: Path, monkeypatch) -> None:
    from deploycheck.transport import remote

    probed: list[str] = []
    monkeypatch.setattr(remote, "sharing_control_dir", lambda: True)
    monkeypatch.setattr(remote, "control_dir", lambda: tmp_path)
    monkeypatch.setattr(remote, "_probe", lambda node, timeout=None: probed.append(node.name) or "probed")
    told = Node("told-by-controller", {})
    untold = Node("unknown-to-controller", {})
    server = AnswerServer(tmp_path, {told.name: told}, Recording(), lambda node: None)
    try:
        assert remote.reachability(told) is None
        assert remote.reachability(untold) == "probed"  # the controller cannot tell: the worker asks the host
    finally:
        server.close()
    assert probed == ["unknown-to-controller"]
