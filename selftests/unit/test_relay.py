"""The bench's latency relay: delays that overlap instead of adding up, bytes intact and
in order, bounded memory and connections, loopback only, and a stop that closes all."""

from __future__ import annotations

import logging
import os
import queue
import select
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import relay as relay_module
from bench.relay import Relay

ROOT = Path(__file__).resolve().parents[2]
DELAY_MS = 25.0
RTT = 2 * DELAY_MS / 1000
TIMEOUT_S = 5.0


class _Echo(socketserver.BaseRequestHandler):
    """Echoes until the client's EOF, then half-closes; reports when the connection ends."""

    server: _EchoServer

    def handle(self) -> None:
        sock = self.request
        sock.settimeout(TIMEOUT_S)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while data := sock.recv(65536):
                sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the relay closed on us: that is what test_stop_closes_open_connections wants
        finally:
            self.server.ended.put(True)


class _EchoServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Echo)
        self.ended: queue.Queue[bool] = queue.Queue()


@pytest.fixture(autouse=True)
def _no_loop_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """The relay's loop logs nothing at ERROR: no task failed, none ended badly on stop."""
    yield
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors


@pytest.fixture
def echo() -> Iterator[_EchoServer]:
    server = _EchoServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(TIMEOUT_S)


@pytest.fixture
def relay(echo: _EchoServer) -> Iterator[Relay]:
    with Relay("127.0.0.1", echo.server_address[1], DELAY_MS) as running:
        yield running


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError(f"EOF after {len(data)} of {size} bytes")
        data += chunk
    return bytes(data)


def _round_trip(sock: socket.socket, message: bytes = b"ping") -> float:
    started = time.perf_counter()
    sock.sendall(message)
    assert _recv_exactly(sock, len(message)) == message
    return time.perf_counter() - started


def _closed_by_peer(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def test_a_round_trip_takes_both_delays(relay: Relay) -> None:
    with _connect(relay.port or 0) as sock:
        elapsed = _round_trip(sock)
    assert RTT <= elapsed < 3 * RTT, f"round trip {elapsed * 1000:.1f} ms through {DELAY_MS:g} ms each way"


def test_sequential_round_trips_add_up_to_one_delay_each(relay: Relay) -> None:
    with _connect(relay.port or 0) as sock:
        started = time.perf_counter()
        trips = [_round_trip(sock, f"trip {n}".encode()) for n in range(20)]
        total = time.perf_counter() - started
    assert min(trips) >= RTT
    assert 20 * RTT <= total <= 1.5 * 20 * RTT, f"20 round trips took {total * 1000:.0f} ms"


def test_delays_overlap_instead_of_adding_up(relay: Relay) -> None:
    """Ten messages 10 ms apart each arrive one round trip after they left: delaying
    chunk after chunk would make the last one 500 ms late."""
    size, count, gap = 100, 10, 0.010
    sent: list[float] = []

    def send(sock: socket.socket) -> None:
        for n in range(count):
            sent.append(time.perf_counter())
            sock.sendall(bytes([n]) * size)
            time.sleep(gap)

    with _connect(relay.port or 0) as sock:
        sender = threading.Thread(target=send, args=(sock,), daemon=True)
        sender.start()
        received, arrived = bytearray(), list[float]()
        while len(arrived) < count:
            received += sock.recv(size * count)
            arrived += [time.perf_counter()] * (len(received) // size - len(arrived))
        sender.join(TIMEOUT_S)
    assert bytes(received) == b"".join(bytes([n]) * size for n in range(count))
    late = [arrived[n] - sent[n] for n in range(count)]
    assert min(late) >= RTT and max(late) < 3 * RTT, [f"{x * 1000:.0f} ms" for x in late]


def test_five_megabytes_arrive_intact_and_in_order(relay: Relay) -> None:
    payload = os.urandom(5 * 1024 * 1024)
    with _connect(relay.port or 0) as sock:
        def send() -> None:
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        received = bytearray()
        while chunk := sock.recv(1024 * 1024):
            received += chunk
        sender.join(TIMEOUT_S)
    assert len(received) == len(payload)
    assert received == payload
    assert relay.bytes_relayed == 2 * len(payload)
    assert relay.peak_pending <= relay.max_pending + relay_module.CHUNK


def test_a_receiver_that_stops_reading_stops_the_relay_reading() -> None:
    """Backpressure: the relay holds at most max_pending bytes (plus one chunk) for a
    receiver that reads nothing, however much the sender pushes."""
    sink = socket.create_server(("127.0.0.1", 0))
    sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sink.settimeout(TIMEOUT_S)
    limit = 256 * 1024
    with sink, Relay("127.0.0.1", sink.getsockname()[1], 0, max_pending=limit) as relay, \
            _connect(relay.port or 0) as sock:
        accepted, _ = sink.accept()
        sock.setblocking(False)
        block, deadline = b"x" * 65536, time.monotonic() + 3.0
        while time.monotonic() < deadline:
            try:
                sock.send(block)
            except BlockingIOError:
                if not select.select([], [sock], [], 0.3)[1]:
                    break  # every buffer on the way is full and the relay has stopped reading
        accepted.close()
    assert limit < relay.peak_pending <= limit + relay_module.CHUNK


def test_stop_closes_open_connections(echo: _EchoServer) -> None:
    running = Relay("127.0.0.1", echo.server_address[1], DELAY_MS)
    port = running.start()
    with _connect(port) as sock:
        _round_trip(sock)
        assert running.active == 1
        started = time.perf_counter()
        running.stop()
        assert time.perf_counter() - started < 2.0
        assert _closed_by_peer(sock)
    assert echo.ended.get(timeout=TIMEOUT_S), "the server's side of the connection stayed open"
    with pytest.raises(OSError):
        _connect(port).close()
    running.stop()  # twice is harmless


def test_connections_beyond_the_limit_are_closed(echo: _EchoServer) -> None:
    with Relay("127.0.0.1", echo.server_address[1], 0, max_connections=2) as running:
        first, second = _connect(running.port or 0), _connect(running.port or 0)
        with first, second:
            _round_trip(first)
            _round_trip(second)
            with _connect(running.port or 0) as third:
                assert _closed_by_peer(third)
            _round_trip(first)
    assert (running.connections, running.refused) == (2, 1)


def test_handshake_adds_one_round_trip_to_a_new_connection(echo: _EchoServer) -> None:
    with Relay("127.0.0.1", echo.server_address[1], DELAY_MS, handshake=True) as running:
        started = time.perf_counter()
        with _connect(running.port or 0) as sock:
            _round_trip(sock)
            first = time.perf_counter() - started
            second = _round_trip(sock)
    assert 2 * RTT <= first < 2 * RTT + 2 * RTT
    assert RTT <= second < 3 * RTT


@pytest.mark.parametrize("listen_host", ["0.0.0.0", "::", "::1", "localhost", "192.0.2.1", ""])
def test_only_loopback_ipv4_is_listened_on(listen_host: str) -> None:
    with pytest.raises(ValueError, match="listens on 127.0.0.1 only"):
        Relay("127.0.0.1", 80, listen_host=listen_host)


@pytest.mark.parametrize("target", ["192.0.2.1", "0.0.0.0", "idr.example.org", ""])
def test_a_target_off_loopback_must_be_named_by_the_caller(target: str) -> None:
    with pytest.raises(ValueError, match="not a loopback address"):
        Relay(target, 80)
    assert Relay(target, 80, allow_hosts={target}).target == (target, 80)


@pytest.mark.parametrize("target", ["127.0.0.1", "127.0.1.1", "::1", "localhost"])
def test_loopback_targets_need_no_naming(target: str) -> None:
    assert Relay(target, 80).target == (target, 80)


@pytest.mark.parametrize("argv, says", [
    ([], "the following arguments are required: --to"),
    (["--to", "192.0.2.1:80"], "not a loopback address"),
    (["--to", "127.0.0.1"], "expected HOST:PORT"),
    (["--to", "127.0.0.1:http"], "expected HOST:PORT"),
    (["--to", "127.0.0.1:0"], "target port 0"),
    (["--to", "127.0.0.1:80", "--delay-ms", "-1"], "delay -1"),
    (["--to", "127.0.0.1:80", "--listen-port", "70000"], "listen port 70000"),
    (["--to", "127.0.0.1:80", "--listen-port", "x"], "invalid int value"),
])
def test_bad_arguments_get_one_line_and_exit_2(argv: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        relay_module.main(argv)
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert err.count("\n") == 1 and err.startswith("python -m bench.relay: error:") and says in err, err


def test_the_command_line_relays_until_terminated(echo: _EchoServer) -> None:
    cmd = [sys.executable, "-m", "bench.relay", "--to", f"127.0.0.1:{echo.server_address[1]}", "--delay-ms", "25"]
    with subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            banner = proc.stdout.readline()
            port = int(banner.split()[1].rpartition(":")[2])
            with _connect(port) as sock:
                assert _round_trip(sock) >= RTT
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=TIMEOUT_S)
        finally:
            proc.kill()
    assert proc.returncode == 0, err
    assert "relayed 1 connections, 8 bytes" in out
