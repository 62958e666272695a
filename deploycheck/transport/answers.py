"""Questions asked ahead once per run, not once per pytest-xdist worker.

Every worker's warm-up asks each host the same read-only questions. The
controller process answers them instead: a worker sends a host's questions
over a Unix socket in the controller's private control folder; the
controller asks the host only those no worker has asked yet, over its one
connection, and answers the rest from memory. Answers never touch the disk
and only this user's processes may connect. Only questions asked ahead go
this way; a control's own commands go over the worker's channel. When the
controller cannot answer, the worker asks the host itself, as before.

Whether a host runs commands at all is asked the same way: the controller
logged in to every host already, so a worker opens its own channel on a host
only when a control runs a command there, not to learn that it could.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import struct
import threading
from collections.abc import Callable
from pathlib import Path

from deploycheck.inventory.loader import Node

SOCKET_NAME = "answers"
MAX_REQUEST_BYTES = 1 << 20  # a host name and its questions
MAX_REQUESTS_PER_CONNECTION = 1_000
ACCEPT_BACKLOG = 32

Answer = tuple[int, str, str]
Ask = Callable[[Node, list[str]], list[Answer]]
Reach = Callable[[Node], "str | None"]  # None when the host runs a command, else the cause


class AnswerServer:
    """The controller's side: serves ``folder/answers`` until ``close``."""

    def __init__(self, folder: Path, hosts: dict[str, Node], ask: Ask, reach: Reach | None = None) -> None:
        self.path = folder / SOCKET_NAME
        self.hosts = hosts
        self.ask = ask
        self.reach = reach
        self._known: dict[str, dict[str, Answer]] = {}
        self._locks = {name: threading.Lock() for name in hosts}
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            self._server.bind(str(self.path))
        finally:
            os.umask(old)
        self._server.listen(ACCEPT_BACKLOG)
        threading.Thread(target=self._accept, name="answers", daemon=True).start()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._server.close()
        self.path.unlink(missing_ok=True)

    def answers(self, node: Node, questions: list[str]) -> list[Answer]:
        """Each question's answer, the host asked only for the new ones (one
        exchange); a failed exchange raises and leaves nothing known."""
        with self._locks[node.name]:
            known = self._known.setdefault(node.name, {})
            new = [q for q in dict.fromkeys(questions) if q not in known]
            if new:
                known.update(zip(new, self.ask(node, new), strict=True))
            return [known[q] for q in questions]

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._serve, args=(conn,), name="answers-client", daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as reader, conn.makefile("wb") as writer:
            peer = getattr(socket, "SO_PEERCRED", None)  # Linux; elsewhere the private folder alone keeps others out
            if peer is not None and struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, peer,
                                                                        struct.calcsize("3i")))[1] != os.getuid():
                return
            for _ in range(MAX_REQUESTS_PER_CONNECTION):
                line = reader.readline(MAX_REQUEST_BYTES + 1)
                if not line or len(line) > MAX_REQUEST_BYTES:
                    return
                writer.write(json.dumps(self._reply(line)).encode() + b"\n")
                writer.flush()

    def _reply(self, line: bytes) -> dict[str, object]:
        try:
            request = json.loads(line)
            node = self.hosts[request["host"]]
            if request.get("reachability") is True:
                if self.reach is None:
                    return {"error": "reachability is not answered here"}
                return {"cause": self.reach(node)}
            questions = request["questions"]
            if not isinstance(questions, list) or not all(isinstance(q, str) for q in questions):
                return {"error": "questions must be a list of strings"}
            return {"answers": self.answers(node, questions)}
        except (ValueError, KeyError, TypeError) as exc:
            return {"error": f"bad request ({exc.__class__.__name__})"}
        except (RuntimeError, OSError, TimeoutError) as exc:
            return {"error": f"the host did not answer ({exc.__class__.__name__})"}


def _request(folder: Path, request: dict[str, object], timeout: float) -> dict[str, object] | None:
    """The controller's reply to one request, or None when there is none to read."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout)
            conn.connect(str(folder / SOCKET_NAME))
            conn.sendall(json.dumps(request).encode() + b"\n")
            with conn.makefile("rb") as reader:
                reply = json.loads(reader.readline())
    except (OSError, ValueError):
        return None
    return reply if isinstance(reply, dict) else None


def ask_controller(folder: Path, node: Node, questions: list[str], timeout: float) -> list[Answer] | None:
    """A worker's side: the controller's answers to the host's questions, or
    None when it cannot give them (the worker then asks the host itself)."""
    reply = _request(folder, {"host": node.name, "questions": questions}, timeout)
    answers = reply.get("answers") if reply is not None else None
    if not isinstance(answers, list) or len(answers) != len(questions):
        return None
    return [(int(rc), str(out), str(err)) for rc, out, err in answers]


def ask_reachability(folder: Path, node: Node, timeout: float) -> tuple[bool, str | None]:
    """A worker's side: (True, the controller's verdict on the host: None when
    it runs commands, else the cause), or (False, None) when the controller
    cannot tell (the worker then probes the host itself)."""
    reply = _request(folder, {"host": node.name, "reachability": True}, timeout)
    if reply is None or "cause" not in reply:
        return False, None
    cause = reply["cause"]
    return (True, cause) if cause is None or isinstance(cause, str) else (False, None)
