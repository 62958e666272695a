"""GETs fetched ahead for a file's controls (``Proxy.fetch_ahead``): sent
together, each answer taken once by the request it stands for, a failure
raised where the control takes it, and every request a control makes still
sent when nothing was fetched for it."""

from __future__ import annotations

import ast
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from deploycheck.inventory.loader import Host
from deploycheck.transport.http import Client
from tests import proxy_checks
from tests.proxy_checks import Proxy

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 10.0


class _Site(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, together: int) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.paths: list[tuple[str, str]] = []  # (path without the fresh value, Cookie header)
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
            self.server.barrier.wait(WAIT_S)  # breaks (500) unless every request is on its way at once
        body = f"{path} #{count}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture(autouse=True)
def _nothing_fetched() -> Iterator[None]:
    proxy_checks._FETCHED.clear()
    yield
    proxy_checks._FETCHED.clear()


def _site(together: int = 1) -> _Site:
    site = _Site(together)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    return site


def _proxy(site: _Site | None, port: int = 0) -> Proxy:
    node = Host("proxy")
    client = Client(f"http://127.0.0.1:{site.server_address[1] if site else port}")
    return Proxy(node, node, client, {"sessionid": "public"})


def test_fetched_answers_are_sent_together_and_each_taken_once() -> None:
    site = _site(together=3)
    try:
        proxy = _proxy(site)
        proxy.fetch_ahead([("/a", None), ("/b", None), ("/a", None)])
        assert len(site.paths) == 3  # all three were waiting at the barrier together: none failed
        first, second, other = proxy.get("/a"), proxy.get("/a"), proxy.get("/b")
        assert first.text != second.text and {first.text[:4], second.text[:4], other.text[:4]} == {"/a #", "/b #"}
        assert len(site.paths) == 3  # answered from what was fetched
        site.barrier = None
        third = proxy.get("/a")  # both fetched answers taken: this one is sent
        assert third.status_code == 200 and third.text == "/a #4"
    finally:
        site.shutdown()


def test_an_answer_fetched_with_other_cookies_or_headers_is_not_taken() -> None:
    site = _site()
    try:
        proxy = _proxy(site)
        proxy.fetch_ahead([("/a", {}), ("/b", None)])
        assert proxy.get("/a").text == "/a #3"  # fetched without cookies; this one sends the public cookie
        assert site.paths[-1] == ("/a", "sessionid=public")
        assert proxy.get("/a", cookies={}).text.startswith("/a #")  # the one fetched without cookies
        assert len(site.paths) == 3
        assert proxy.get("/b", headers={"X-Test": "1"}).text == "/b #4"  # other headers: sent, not taken
        assert proxy.get("/b").text.startswith("/b #")
        assert len(site.paths) == 4
    finally:
        site.shutdown()


def test_a_request_that_failed_ahead_raises_in_the_control_that_takes_it() -> None:
    site = _site()
    port = site.server_address[1]
    site.shutdown()
    site.server_close()  # nothing listens there now
    proxy = _proxy(None, port)
    proxy.fetch_ahead([("/a", None)])
    with pytest.raises(requests.ConnectionError):
        proxy.get("/a")


def test_any_error_of_a_request_ahead_is_raised_by_its_taker_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """One malformed request must not fail its file's other controls."""
    site = _site()
    try:
        proxy = _proxy(site)
        real = Client.get

        def refuse_bad(self: Client, path: str, *args: object, **kwargs: object) -> object:
            if path.startswith("/bad"):
                raise ValueError("malformed")
            return real(self, path, *args, **kwargs)

        monkeypatch.setattr(Client, "get", refuse_bad)
        proxy.fetch_ahead([("/bad", None), ("/good", None)])
        assert proxy.get("/good").text == "/good #1"
        with pytest.raises(ValueError, match="malformed"):
            proxy.get("/bad")
    finally:
        site.shutdown()


def _names(path: Path) -> tuple[set[str], set[str]]:
    """The file's control functions, and the names its AHEAD lists (read, not imported)."""
    tree = ast.parse(path.read_text())
    controls = {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}
    ahead = {k.value for n in tree.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
             and n.target.id == "AHEAD" and isinstance(n.value, ast.Dict)
             for k in n.value.keys if isinstance(k, ast.Constant)}
    return controls, ahead


@pytest.mark.parametrize("module", ["tests/msir/test_render.py", "tests/msir/test_err.py"])
def test_every_request_fetched_ahead_is_for_a_control_of_its_file(module: str) -> None:
    """A name in AHEAD that names no control would fetch requests nobody takes."""
    controls, ahead = _names(ROOT / module)
    assert ahead and ahead <= controls, sorted(ahead - controls)
