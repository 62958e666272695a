"""One long-lived ``/bin/sh`` per host and process, fed command after command.

Starting ``docker exec`` or ``ssh`` for every remote command costs tens of
milliseconds each and one connection each; a control run asks a host dozens
of things. Here the connection is opened once and every command travels over
it, framed so that stdout, stderr and the exit status come back exactly.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import random
import secrets
import select
import shlex
import subprocess
import tempfile
import threading
import time
import weakref
from pathlib import Path
from typing import Any

from testinfra.backend import base

from deploycheck.inventory.loader import cut
from deploycheck.transport.counters import COUNTERS

COMMAND_TIMEOUT = 300.0  # a single remote command never blocks a run longer than this

# Runs once in the remote shell: a private scratch directory for each command's
# output, removed when our end of the connection closes.
# Its variables have names no command would use: commands run in subshells of it, which see them.
_PRELUDE = ('umask 077; dc_dir=$(mktemp -d 2>/dev/null) || { dc_dir=/tmp/.deploycheck.$$ && mkdir -m 0700 "$dc_dir"; } '
            "|| exit 97; trap 'rm -rf \"$dc_dir\"' EXIT\n")
CONNECT_TIMEOUT = 60.0  # from starting the connection to the shell's first answer
PIPELINE_BYTES = 16_384  # command text sent ahead of the answers, at most
MAX_OUTPUT_BYTES = 64 << 20  # a command's stdout, and its stderr, at most
# sshd drops unauthenticated connections beyond MaxStartups (10 by default): open few at once through one
# sshd (its "door": the host's own, or its jump host's while no shared connection to that exists), retry a dropped one
OPENING_AT_ONCE = 6
OPENING_IN_ALL = 24  # and at most this many in all, whatever the doors
CONNECT_TRIES = 3
AWAIT_POLL_S = 0.02
DROPPED_SIGNS = ("Connection closed by", "kex_exchange_identification", "Connection reset by")
_DOORS: dict[str, threading.BoundedSemaphore] = {}
_ALL_DOORS = threading.BoundedSemaphore(OPENING_IN_ALL)
_DOORS_LOCK = threading.Lock()


def _door(name: str) -> threading.BoundedSemaphore:
    with _DOORS_LOCK:
        return _DOORS.setdefault(name, threading.BoundedSemaphore(OPENING_AT_ONCE))


def wait_while_exists(path: Path | None, deadline: float) -> None:
    """Poll until ``path`` is gone or ``deadline`` (monotonic) passes; bounded in count and time."""
    for _ in range(int(max(0.0, deadline - time.monotonic()) / AWAIT_POLL_S) + 1):
        if path is None or not path.exists() or time.monotonic() > deadline:
            return
        time.sleep(AWAIT_POLL_S)


def failure_note(awaited: Path) -> Path:
    """Where the process that opened the shared connection leaves the cause
    when it could not (see ``PersistentShell.awaited``)."""
    return awaited.with_name(awaited.name + ".failed")


class ShellClosedError(RuntimeError):
    """The connection ended; the message carries its last error line."""


class OutputTooLargeError(ShellClosedError):
    """A command's answer exceeded ``MAX_OUTPUT_BYTES``: the connection is dropped, memory stays bounded."""


class PersistentShell:
    """A shell reached through ``argv`` (``docker exec -i C /bin/sh``, ``ssh H /bin/sh``)."""

    def __init__(self, argv: list[str], label: str, awaited: Path | None = None,
                 jump_socket: Path | None = None) -> None:
        self.argv = argv
        self.label = label
        self.awaited = awaited  # while this file exists, another process is opening the connection to share
        self.jump_socket = jump_socket  # the shared connection to the host's jump host, once it exists
        self._first = True  # only a first connection heeds that process's failure (see failure_note)
        self._proc: subprocess.Popen[bytes] | None = None
        self._errors: Any = None
        self._buf = bytearray()
        self._token = ""
        self._lock = threading.Lock()
        _OPEN.add(self)

    def run(self, command: str, timeout: float = COMMAND_TIMEOUT, stdin: str | None = None) -> tuple[int, bytes, bytes]:
        """Exit status, stdout and stderr of ``/bin/sh -c command`` on the host.
        ``stdin`` (text, e.g. a password) reaches the command on its standard
        input through the connection, never in a command line ``ps`` shows."""
        return self._exchange([(command, stdin)], timeout)[0]

    def run_many(self, commands: list[str], timeout: float = COMMAND_TIMEOUT) -> list[tuple[int, bytes, bytes]]:
        """Each command's result, in order, for the cost of one round trip:
        all are sent at once and the shell answers them one after the other
        (``timeout`` is for the whole batch). Over a slow link this is what
        makes many small facts cheap."""
        results: list[tuple[int, bytes, bytes]] = []
        batch: list[tuple[str, str | None]] = []
        size = 0
        for command in commands:  # a batch stays well inside a pipe's buffer, so writing never waits on reading
            if batch and size + len(command) > PIPELINE_BYTES:
                results += self._exchange(batch, timeout)
                batch, size = [], 0
            batch.append((command, None))
            size += len(command)
        return results + (self._exchange(batch, timeout) if batch else [])

    def _line(self, command: str, stdin: str | None) -> str:
        feed, source, clean = "", "/dev/null", ""
        if stdin is not None:
            end = f"DC_END_{secrets.token_hex(8)}"
            if end in stdin:
                raise ValueError("stdin holds the end marker")
            feed, source = f"cat >\"$dc_dir/i\" <<'{end}'\n{stdin}\n{end}\n", "\"$dc_dir/i\""
            clean = "rm -f \"$dc_dir/i\"; "
        # a subshell, as `sh -c` would be (its own exit, cd, traps and redirections) without starting a program;
        # stdout goes straight back, ended by the token (random, unknown to the command), stderr by its length:
        # no program is started to frame an answer unless the command wrote to stderr
        return (f"{feed}( eval {shlex.quote(command)} ) <{source} 2>\"$dc_dir/e\"; dc_rc=$?; {clean}"
                f"printf '\\n%s %s ' {self._token} \"$dc_rc\"; "
                "if [ -s \"$dc_dir/e\" ]; then wc -c <\"$dc_dir/e\"; cat \"$dc_dir/e\"; else echo 0; fi\n")

    def _exchange(self, commands: list[tuple[str, str | None]], timeout: float) -> list[tuple[int, bytes, bytes]]:
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._start(min(timeout, CONNECT_TIMEOUT))
            assert self._proc is not None and self._proc.stdin is not None
            text = "".join(self._line(command, stdin) for command, stdin in commands)
            COUNTERS.round_trips[self.label] += 1
            deadline = time.monotonic() + timeout
            results = []
            try:
                self._proc.stdin.write(text.encode())
                self._proc.stdin.flush()
                ended = b"\n" + self._token.encode() + b" "
                for _ in commands:
                    out = self._read_until(ended, deadline)
                    header = self._read_line(deadline).split()
                    if len(header) != 2 or not all(x.isdigit() for x in header):
                        raise ShellClosedError(f"{self.label}: unexpected reply from the shell: "
                                               f"{b' '.join(header)[:80]!r}")
                    rc, n_err = (int(x) for x in header)
                    if n_err > MAX_OUTPUT_BYTES:
                        raise OutputTooLargeError(f"{self.label}: a command wrote more than {MAX_OUTPUT_BYTES} bytes")
                    results.append((rc, out, self._read_exact(n_err, deadline)))
            except BrokenPipeError:
                cause = self._last_error()
                self._stop()
                raise ShellClosedError(cause) from None
            except OutputTooLargeError:
                self._stop(kill=True)  # the command may still be writing
                raise
            except ShellClosedError:
                self._stop()
                raise
            except TimeoutError:
                self._stop(kill=True)  # the command still runs: do not wait for it
                raise
            except BaseException:
                self._stop(kill=True)  # never reuse a stream whose position is unknown
                raise
            return results

    def close(self) -> None:
        with self._lock:
            self._stop()

    def hang_up(self) -> None:
        """Close our end of the connection without waiting for it to end (``close`` waits)."""
        with self._lock:
            proc = self._proc
            for stream in (proc.stdin, proc.stdout) if proc is not None else ():
                with contextlib.suppress(OSError):
                    if stream is not None:
                        stream.close()

    def _start(self, timeout: float) -> None:
        """Open the connection, a few at a time per process and sshd; a connection the
        server dropped before login (sshd's MaxStartups does that to a burst
        of connections, through a jump host too) is tried again, briefly."""
        deadline = time.monotonic() + timeout
        if self._first and self.awaited is not None:
            self._first = False
            wait_while_exists(self.awaited, deadline)  # the process logging in finishes; this becomes a channel
            note = failure_note(self.awaited)
            if note.exists():  # the run's own login failed just now: its cause, without waiting as long again
                raise ShellClosedError(cut(note.read_text(errors="replace").strip(), 300) or "connection failed")
        for attempt in range(1, CONNECT_TRIES + 1):
            # through a jump host's shared connection a login is a channel: only the host's own sshd counts it
            door = self.label if self.jump_socket is None or self.jump_socket.exists() else f"via {self.jump_socket}"
            with _ALL_DOORS, _door(door):
                try:
                    self._connect(max(1.0, deadline - time.monotonic()))
                    return
                except ShellClosedError as exc:
                    dropped = any(sign in str(exc) for sign in DROPPED_SIGNS)
                    if attempt == CONNECT_TRIES or not dropped or time.monotonic() > deadline:
                        raise
            time.sleep(0.2 * attempt + random.random() * 0.3)

    def _connect(self, timeout: float) -> None:
        """Open the connection and wait for the shell's first answer; whatever
        the login prints before it (a banner, a chatty shell profile) is dropped."""
        self._stop()
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the shell; closed in _stop
        self._token = f"deploycheck-{secrets.token_hex(8)}"
        self._buf.clear()
        self._proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=self._errors, start_new_session=True)
        assert self._proc.stdin is not None
        deadline = time.monotonic() + timeout
        try:
            self._proc.stdin.write(f"{_PRELUDE}echo {self._token}-ready\n".encode())
            self._proc.stdin.flush()
            for _ in range(10_000):  # bounded: a login prints a few lines at most
                if self._read_line(deadline).strip() == f"{self._token}-ready".encode():
                    COUNTERS.shells[self.label] += 1  # a connection that answered (a dropped login is tried again)
                    return
            raise ShellClosedError(f"{self.label}: the shell never answered")
        except BrokenPipeError:
            cause = self._last_error()
            self._stop()
            raise ShellClosedError(cause) from None
        except BaseException:
            self._stop(kill=True)
            raise

    def _stop(self, kill: bool = False) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        for stream in (proc.stdin, proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        if kill:
            proc.kill()  # our own child, by its handle
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        if self._errors is not None:
            self._errors.close()
            self._errors = None

    def _fill(self, deadline: float) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise TimeoutError(f"{self.label}: no answer within the command timeout")
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            raise ShellClosedError(self._last_error())
        self._buf += chunk

    def _read_line(self, deadline: float) -> bytes:
        while b"\n" not in self._buf:
            self._fill(deadline)
        line, _, rest = bytes(self._buf).partition(b"\n")
        self._buf[:] = rest
        return line

    def _read_until(self, end: bytes, deadline: float) -> bytes:
        """Everything before ``end``, which is consumed too; bounded in size."""
        start = 0
        while (at := self._buf.find(end, start)) < 0:
            if len(self._buf) > MAX_OUTPUT_BYTES:
                raise OutputTooLargeError(f"{self.label}: a command wrote more than {MAX_OUTPUT_BYTES} bytes")
            start = max(0, len(self._buf) - len(end) + 1)
            self._fill(deadline)
        data = bytes(self._buf[:at])
        del self._buf[:at + len(end)]
        return data

    def _read_exact(self, n: int, deadline: float) -> bytes:
        while len(self._buf) < n:
            self._fill(deadline)
        data = bytes(self._buf[:n])
        del self._buf[:n]
        return data

    def _last_error(self) -> str:
        """The connection's own last error line (docker or ssh), for a one-line cause."""
        assert self._proc is not None
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(timeout=5)
        text = ""
        if self._errors is not None:
            self._errors.seek(0)
            text = self._errors.read().decode(errors="replace")
        lines = [x.strip() for x in text.splitlines() if x.strip()]
        return lines[-1] if lines else f"connection closed (exit status {self._proc.returncode})"


_OPEN: weakref.WeakSet[PersistentShell] = weakref.WeakSet()


@atexit.register
def close_all() -> None:
    """End every shell when the run ends (each removes its scratch directory).
    All are told first, then each is waited for: an ssh master waits for the
    channels riding it (a jump host's connection for the hosts behind it),
    so closing one after the other could wait on a later one."""
    shells = list(_OPEN)
    for shell in shells:
        shell.hang_up()
    for shell in shells:
        shell.close()


class ShellBackend(base.BaseBackend):
    """testinfra backend over a :class:`PersistentShell`, so testinfra's modules
    (file, service, socket, ...) reuse the host's one connection."""

    NAME = "deploycheck-shell"

    def __init__(self, shell: PersistentShell, **kwargs: Any) -> None:
        self.shell = shell
        super().__init__(shell.label, **kwargs)

    def run(self, command: str, *args: str, **kwargs: Any) -> base.CommandResult:
        cmd = self.get_command(command, *args)
        try:
            rc, out, err = self.shell.run(cmd, timeout=float(kwargs.get("timeout", COMMAND_TIMEOUT)))
        except (ShellClosedError, TimeoutError) as exc:
            raise RuntimeError(self.result(255, self.encode(cmd), b"", str(exc).encode())) from exc
        return self.result(rc, self.encode(cmd), out, err)

    def run_many(self, commands: list[str], timeout: float = COMMAND_TIMEOUT) -> list[base.CommandResult]:
        """Results of several commands in one round trip (see :meth:`PersistentShell.run_many`)."""
        wrapped = [self.get_command(c) for c in commands]
        try:
            answers = self.shell.run_many(wrapped, timeout=timeout)
        except (ShellClosedError, TimeoutError) as exc:
            raise RuntimeError(self.result(255, b"", b"", str(exc).encode())) from exc
        return [self.result(rc, self.encode(cmd), out, err)
                for cmd, (rc, out, err) in zip(wrapped, answers, strict=True)]
