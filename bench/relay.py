"""A TCP relay that delays bytes, so the bench can time the suite against far-away hosts.

This machine's kernel has no netem, so the latency sits in userspace instead: the relay
listens on 127.0.0.1 and forwards every connection to one target, holding each chunk
for a fixed one-way delay in each direction (25 ms each way makes a 50 ms round trip).
The bench only relays to the 127.0.0.1 ports the reference stacks publish; any other
target has to be named by the caller in ``allow_hosts``.

    >>> with Relay("127.0.0.1", 2222, delay_ms=25) as relay:  # doctest: +SKIP
    ...     ssh_port = relay.port

Each chunk is released at the time it was read plus the delay, so delays overlap as on
a real link instead of adding up chunk after chunk. A new connection is accepted at
once: TCP's own handshake costs no round trip unless ``handshake=True``.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import signal
import sys
import threading
from collections.abc import Awaitable, Callable, Collection
from types import FrameType, TracebackType
from typing import NoReturn, Self, TypeVar

LISTEN_HOST = "127.0.0.1"
CHUNK = 64 * 1024
MAX_DELAY_MS = 10_000.0
CONNECT_TIMEOUT_S = 5.0
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
CLOSE_GRACE_S = 1.0

T = TypeVar("T")
log = logging.getLogger(__name__)


class _IdleError(Exception):
    """A connection moved no byte either way for idle_timeout seconds."""


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Link:
    """The idle clock of one connection, shared by its two directions: a download
    keeps the quiet upload direction alive, and a link silent both ways ends."""

    def __init__(self, idle_timeout: float) -> None:
        self.idle_timeout = idle_timeout
        self.last = asyncio.get_running_loop().time()

    def touch(self) -> None:
        self.last = asyncio.get_running_loop().time()

    async def within_idle(self, make: Callable[[], Awaitable[T]]) -> T:
        """Await ``make()``, retried while the link has moved bytes within idle_timeout,
        so no wait outlives an idle link. asyncio.timeout, not wait_for: on 3.11 wait_for
        swallows a cancel that lands as its awaitable completes, and stop() would hang."""
        loop = asyncio.get_running_loop()
        while (left := self.last + self.idle_timeout - loop.time()) > 0:
            try:
                async with asyncio.timeout(left):
                    return await make()
            except TimeoutError:
                continue
        raise _IdleError


class _Direction:
    """One direction of one connection: a reader stamps each chunk with its release
    time and queues it, a writer sleeps until that time and writes it. Order is the
    queue's; reading pauses while more than max_pending bytes wait, so a fast sender
    to a slow receiver cannot fill the relay's memory."""

    def __init__(self, relay: Relay, link: _Link) -> None:
        self._relay = relay
        self._link = link
        self._queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        self._pending = 0
        self._room = asyncio.Event()
        self._room.set()

    async def read_from(self, src: asyncio.StreamReader) -> None:
        loop = asyncio.get_running_loop()
        while True:
            data = await self._link.within_idle(lambda: src.read(CHUNK))
            self._queue.put_nowait((loop.time() + self._relay.delay, data))
            if not data:  # b"" is the sender's EOF, delayed like its bytes
                return
            self._link.touch()
            self._pending += len(data)
            self._relay.peak_pending = max(self._relay.peak_pending, self._pending)
            if self._pending > self._relay.max_pending:
                self._room.clear()
                await self._link.within_idle(self._room.wait)

    async def write_to(self, dst: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        while True:
            release, data = await self._link.within_idle(self._queue.get)
            while (wait := release - loop.time()) > 0:  # never early, whatever the timer's rounding
                await asyncio.sleep(wait)
            if not data:
                if dst.can_write_eof():
                    dst.write_eof()  # half-close: the other direction may still be talking
                return
            dst.write(data)
            await self._link.within_idle(dst.drain)
            self._link.touch()
            self._relay.bytes_relayed += len(data)
            self._pending -= len(data)
            if self._pending <= self._relay.max_pending:
                self._room.set()


async def _shut(writer: asyncio.StreamWriter) -> None:
    """Close gracefully, so bytes already written still leave; abort a peer that stalls."""
    writer.close()
    try:
        async with asyncio.timeout(CLOSE_GRACE_S):
            await writer.wait_closed()
    except (OSError, TimeoutError):
        writer.transport.abort()


class Relay:
    """A latency relay on 127.0.0.1 in a thread of its own, so synchronous bench code
    can start it, point a client at ``port`` and stop it.

    ``bytes_relayed`` counts bytes delivered in both directions, ``connections`` the
    connections relayed, ``refused`` those closed at once because ``max_connections``
    were open, and ``peak_pending`` the most bytes one direction ever held."""

    def __init__(self, target_host: str, target_port: int, delay_ms: float = 25.0, *,
                 listen_host: str = LISTEN_HOST, listen_port: int = 0, max_connections: int = 256,
                 max_pending: int = 1024 * 1024, idle_timeout: float = 600.0, handshake: bool = False,
                 allow_hosts: Collection[str] = ()) -> None:
        if listen_host != LISTEN_HOST:
            raise ValueError(f"the relay listens on {LISTEN_HOST} only, not {listen_host!r}")
        if not 0 <= listen_port <= 65535:
            raise ValueError(f"listen port {listen_port} is not in 0-65535")
        if not (_is_loopback(target_host) or target_host in allow_hosts):
            raise ValueError(f"target {target_host!r} is not a loopback address; name it in allow_hosts to relay to it")
        if not 1 <= target_port <= 65535:
            raise ValueError(f"target port {target_port} is not in 1-65535")
        if not 0 <= delay_ms <= MAX_DELAY_MS:
            raise ValueError(f"delay {delay_ms} ms is not in 0-{MAX_DELAY_MS:g} ms")
        if max_connections < 1 or max_pending < 1 or idle_timeout <= 0:
            raise ValueError("max_connections, max_pending and idle_timeout must be positive")
        self.target = (target_host, target_port)
        self.delay = delay_ms / 1000
        self.listen_port = listen_port
        self.max_connections = max_connections
        self.max_pending = max_pending
        self.idle_timeout = idle_timeout
        self.handshake = handshake
        self.port: int | None = None
        self.bytes_relayed = 0
        self.connections = 0
        self.refused = 0
        self.peak_pending = 0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        # Touched only on the relay's own loop:
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.Task[None]] = set()
        self._closing = False

    @property
    def active(self) -> int:
        """Connections open now."""
        return len(self._links)

    def start(self) -> int:
        """Listen and relay in a background thread; the port it listens on."""
        with self._lock:
            if self._thread is not None:
                raise RuntimeError("the relay is already running")
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=self._run, args=(loop,), name=f"relay-to-{self.target[1]}", daemon=True)
            thread.start()
            try:
                self.port = asyncio.run_coroutine_threadsafe(self._open(), loop).result(START_TIMEOUT_S)
            except BaseException:
                loop.call_soon_threadsafe(loop.stop)
                thread.join(STOP_TIMEOUT_S)
                raise
            self._loop, self._thread = loop, thread
            return self.port

    def stop(self) -> None:
        """Stop listening and close every open connection, both sides; waits at most
        a few seconds. Stopping a relay that does not run does nothing."""
        with self._lock:
            loop, thread = self._loop, self._thread
            if loop is None or thread is None:
                return
            self._loop = self._thread = None
            try:
                asyncio.run_coroutine_threadsafe(self._close(), loop).result(STOP_TIMEOUT_S + 2 * CLOSE_GRACE_S)
            finally:
                loop.call_soon_threadsafe(loop.stop)
                thread.join(STOP_TIMEOUT_S)
            if thread.is_alive():
                log.warning("relay thread %s did not end within %.0f s", thread.name, STOP_TIMEOUT_S)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        """The thread: run the loop until stop(), then end whatever is left as asyncio.run does."""
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            left = asyncio.all_tasks(loop)
            for task in left:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _open(self) -> int:
        self._closing = False
        self._server = await asyncio.start_server(self._serve, LISTEN_HOST, self.listen_port)
        return int(self._server.sockets[0].getsockname()[1])

    async def _close(self) -> None:
        self._closing = True
        if self._server is not None:
            self._server.close()
        links = list(self._links)
        for task in links:
            task.cancel()
        if links:
            await asyncio.wait(links, timeout=STOP_TIMEOUT_S)
        if self._server is not None:
            try:
                async with asyncio.timeout(CLOSE_GRACE_S):
                    await self._server.wait_closed()
            except TimeoutError:
                log.warning("relay on port %s: listener did not close within %.0f s", self.port, CLOSE_GRACE_S)
            self._server = None

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        """Admit one accepted connection, or close it at once when max_connections are open."""
        task = asyncio.current_task()
        if self._closing or task is None or len(self._links) >= self.max_connections:
            self.refused += 1
            client_w.close()
            return
        self._links.add(task)
        self.connections += 1
        try:
            await self._relay(client_r, client_w)
        except asyncio.CancelledError:
            # stop() cancelled it. End quietly: on 3.11 the stream server's callback
            # calls exception() on its task, which raises for a cancelled one.
            if not self._closing:
                raise
        finally:
            self._links.discard(task)

    async def _relay(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        """Relay until both directions end or either fails; both sockets are closed
        whichever way it ends, cancellation included."""
        link = _Link(self.idle_timeout)
        upstream, downstream = _Direction(self, link), _Direction(self, link)
        writers = [client_w]
        tasks = [asyncio.create_task(upstream.read_from(client_r))]
        try:
            if self.handshake:  # SYN out, SYN-ACK back, ACK out: the far server accepts 1.5 round trips later
                await asyncio.sleep(3 * self.delay)
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                server_r, server_w = await asyncio.open_connection(*self.target)
            writers.append(server_w)
            tasks += [asyncio.create_task(upstream.write_to(server_w)),
                      asyncio.create_task(downstream.read_from(server_r)),
                      asyncio.create_task(downstream.write_to(client_w))]
            await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        except (OSError, TimeoutError) as exc:
            log.debug("relay to %s:%s: %s", *self.target, exc)
        finally:
            for each in tasks:
                each.cancel()
            for end in await asyncio.gather(*tasks, return_exceptions=True):
                if isinstance(end, Exception) and not isinstance(end, OSError | _IdleError):
                    log.error("relay to %s:%s failed", *self.target, exc_info=end)
            for writer in writers:
                await _shut(writer)


class _Parser(argparse.ArgumentParser):
    """argparse, with a bad argument reported in one line instead of the usage text."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m bench.relay", description=__doc__.splitlines()[0])
    parser.add_argument("--to", type=_host_port, required=True, metavar="HOST:PORT",
                        help="where to relay to: a loopback address, such as a port a reference stack publishes")
    parser.add_argument("--listen-port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    parser.add_argument("--delay-ms", type=float, default=25.0, help="one-way delay each direction (default: 25)")
    parser.add_argument("--max-connections", type=int, default=256, help="more are closed at once (default: 256)")
    parser.add_argument("--handshake", action="store_true", help="also delay a new connection by TCP's handshake")
    args = parser.parse_args(argv)
    try:
        relay = Relay(args.to[0], args.to[1], args.delay_ms, listen_port=args.listen_port,
                      max_connections=args.max_connections, handshake=args.handshake)
    except ValueError as exc:
        parser.error(str(exc))
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        port = relay.start()
    except OSError as exc:
        print(f"{parser.prog}: cannot listen on {LISTEN_HOST}:{args.listen_port}: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    host, target_port = args.to
    print(f"relaying {LISTEN_HOST}:{port} -> {host}:{target_port}, {args.delay_ms:g} ms each way; Ctrl-C stops",
          flush=True)
    try:
        while not stopping.wait(1.0):
            pass
    finally:
        relay.stop()
    print(f"relayed {relay.connections} connections, {relay.bytes_relayed} bytes; refused {relay.refused}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
