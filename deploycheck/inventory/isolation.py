"""Work on untrusted input in a child process with bounded memory and time.

The sandbox keeps a template away from Python's internals, but a template
can still loop for hours or build a value of gigabytes with nothing but
Jinja's own syntax, and neither can be stopped from inside the process that
runs it. So deploycheck renders in a forked child (which inherits the loaded
inventory, nothing is serialised on the way in) whose address space is
capped, while the parent gives each item a deadline. An item that exceeds
either ends the child: it is reported as beyond the bounds and a new child
goes on with the next item. Results come back pickled and are read with an
unpickler that loads no class: only plain values pass.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import resource
import select
import signal
import struct
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
Outcome = tuple[bool, Any]  # (True, value) or (False, a one-line message)

MEMORY = 1 << 30  # bytes a child may add to the address space it inherited
SECONDS_EACH = 10.0  # wall seconds one item may take
MAX_RESULT = 1 << 20  # bytes one pickled result may take
_HEADER = struct.Struct("!I")


class BeyondBoundsError(Exception):
    """An item that took too long, too much memory or gave too large a result."""


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"{module}.{name} is not a plain value")


def _loads(data: bytes) -> Any:
    return _PlainUnpickler(io.BytesIO(data)).load()


def _address_space() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _child(items: Sequence[T], start: int, work: Callable[[T], Outcome], out: int, memory: int) -> None:
    """Runs in the child: caps memory, then one framed result per item."""
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        limit = _address_space() + memory
        resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
        for item in items[start:]:
            try:
                result: Outcome = work(item)
                data = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
            except MemoryError:
                data = pickle.dumps((False, "beyond deploycheck's bounds: needs more than "
                                     f"{memory >> 20} MiB of memory"))
            except RecursionError:
                data = pickle.dumps((False, "beyond deploycheck's bounds: recursion too deep"))
            except Exception as exc:  # a value that cannot travel: said, not raised
                data = pickle.dumps((False, f"{type(exc).__name__}: {str(exc)[:200]}"))
            if len(data) > MAX_RESULT:
                data = pickle.dumps((False, f"beyond deploycheck's bounds: the result takes more than "
                                     f"{MAX_RESULT >> 10} KiB"))
            view = memoryview(_HEADER.pack(len(data)) + data)
            while view:
                view = view[os.write(out, view):]
    finally:
        os._exit(0)


def _read_frame(fd: int, deadline: float) -> bytes | None:
    """One framed result, or None when the child ended or the deadline passed."""
    buffer = b""
    need = _HEADER.size
    header_read = False
    while True:
        while len(buffer) < need:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, min(1 << 16, need - len(buffer)))
            if not chunk:
                return None
            buffer += chunk
        if header_read:
            return buffer
        need = _HEADER.unpack(buffer)[0]
        buffer, header_read = b"", True
        if need > MAX_RESULT + 1024:
            return None


def _end(pid: int) -> None:
    """Ends the child this module started (by its pid) and reaps it."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):  # already reaped while finding out why it ended
        os.waitpid(pid, 0)


def run(items: Sequence[T], work: Callable[[T], Outcome], *, memory: int = MEMORY,
        seconds_each: float = SECONDS_EACH) -> list[Outcome]:
    """``work(item)`` for each item, in order, in bounded children; an item
    that breaks a bound gets ``(False, why)`` and costs the others nothing."""
    results: list[Outcome] = []
    while len(results) < len(items):
        read, write = os.pipe()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # fork beside threads: the child only renders
            pid = os.fork()
        if pid == 0:
            os.close(read)
            _child(items, len(results), work, write, memory)
        os.close(write)
        try:
            while len(results) < len(items):
                frame = _read_frame(read, time.monotonic() + seconds_each)
                if frame is None:
                    results.append((False, _why_not(pid, seconds_each, memory)))
                    break
                try:
                    results.append(_loads(frame))
                except (pickle.UnpicklingError, EOFError, ValueError) as exc:
                    results.append((False, f"the result is not a plain value: {exc}"))
        finally:
            os.close(read)
            _end(pid)
    return results


def _why_not(pid: int, seconds: float, memory: int) -> str:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done and os.WIFSIGNALED(status):
        return f"beyond deploycheck's bounds: the work ended with signal {os.WTERMSIG(status)} (memory above " \
               f"{memory >> 20} MiB?)"
    if done:
        return f"beyond deploycheck's bounds: needs more than {memory >> 20} MiB of memory"
    return f"beyond deploycheck's bounds: takes more than {seconds:g} s"
