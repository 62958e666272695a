"""Tunnels to inner ports, the way an operator uses ``ssh -L``.

A local listener (a private Unix socket) forwards each connection through
the inventory host: ``ssh -W target:port`` for SSH hosts, ``docker exec -i
HOST nc target port`` for containers. psycopg2 connects to it and never to
an inner address directly.
"""

from __future__ import annotations

import contextlib
import io
import os
import shlex
import shutil
import socket
import subprocess
import tempfile
import threading
from types import TracebackType

from deploycheck.inventory.connection import connection_of
from deploycheck.inventory.loader import Node
from deploycheck.transport.counters import COUNTERS


class Tunnel:
    """``with Tunnel(via, "127.0.0.1", 5432) as (host, port): ...``

    The local end is a Unix socket named as PostgreSQL names its own
    (``<folder>/.s.PGSQL.<port>``, so ``host=<folder>`` reaches it), in a
    folder only this user can enter: no other local user can ride the
    operator's SSH identity through it, as they could through a TCP port."""

    def __init__(self, via: Node, target: str, port: int) -> None:
        self.via, self.target, self.port = via, target, port
        self.command = connection_of(via).relay_argv(via, target, port)
        self._folder: str | None = None
        self._server: socket.socket | None = None
        self._procs: list[subprocess.Popen[bytes]] = []
        self._lock = threading.Lock()

    def __enter__(self) -> tuple[str, int]:
        if self.command is None:
            return self.target, self.port
        self._folder = tempfile.mkdtemp(prefix="deploycheck-tunnel-")  # 0700
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(os.path.join(self._folder, f".s.PGSQL.{self.port}"))
        server.listen(8)
        self._server = server
        threading.Thread(target=self._accept, daemon=True, name=f"tunnel-{self.via.name}").start()
        return self._folder, self.port

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def running(self) -> bool:
        """False once a relayed connection's ssh or docker process has ended (the link is gone)."""
        with self._lock:
            return all(proc.poll() is None for proc in self._procs)

    def describe(self) -> str:
        return shlex.join(self.command) if self.command else f"direct {self.target}:{self.port}"

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None
        with self._lock:
            procs, self._procs = self._procs, []
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()

    def _accept(self) -> None:
        server = self._server
        while server is not None:
            try:
                client, _ = server.accept()
            except OSError:
                return
            assert self.command is not None
            COUNTERS.relays[self.via.name] += 1
            proc = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL)
            with self._lock:
                self._procs.append(proc)
            threading.Thread(target=self._pump_in, args=(client, proc), daemon=True).start()
            threading.Thread(target=self._pump_out, args=(client, proc), daemon=True).start()

    @staticmethod
    def _pump_in(client: socket.socket, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdin is not None
        try:
            while data := client.recv(65536):
                proc.stdin.write(data)
                proc.stdin.flush()
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                proc.stdin.close()

    @staticmethod
    def _pump_out(client: socket.socket, proc: subprocess.Popen[bytes]) -> None:
        out = proc.stdout
        assert isinstance(out, io.BufferedReader)  # Popen's default buffering: read1 returns what has come
        try:
            while data := out.read1(65536):
                client.sendall(data)
        except OSError:
            pass
        finally:
            client.close()
            if proc.poll() is None:
                proc.terminate()
