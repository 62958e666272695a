"""One SSH login per host per run, not one per pytest-xdist worker.

The controller process runs no controls; it logs in to every SSH host first,
while the workers start and collect, and keeps each connection as the master
of a control socket in its private folder, which it hands to the workers.
Their shells and relays then open a channel on it (one round trip) instead
of logging in again (a dozen round trips through a jump host, and the
host's CPU for each login). While a master is still logging in, a marker
file beside its socket tells the workers to wait for it rather than log in
themselves; a master that fails removes its marker too, and the workers then
connect on their own as before.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from deploycheck.inventory.connection import Ssh, connection_of
from deploycheck.inventory.loader import Node
from deploycheck.transport.shell import failure_note, wait_while_exists
from deploycheck.transport.sshstate import sharing_control_dir

SHARING_WORKERS = 8  # sshd allows 10 sessions per connection (MaxSessions): the controller, 8 workers, a spare
MARKER_SUFFIX = ".opening"
JUMP_WAIT_S = 30.0  # at most, for the jump host's own login


def marker_of(node: Node, jump: bool = False) -> Path | None:
    """The file that stands for the host's master (or its jump host's) while
    it logs in; None when there is none (not an SSH host, no jump host)."""
    connection = connection_of(node)
    if not isinstance(connection, Ssh):
        return None
    socket = connection.jump_socket(node) if jump else connection.control_socket(node)
    return socket.with_name(socket.name + MARKER_SUFFIX) if socket is not None else None


def open_connections(nodes: Iterable[Node], connect: Callable[[Node], object],
                 others_too: bool = False) -> list[threading.Thread]:
    """Log in to every SSH host at once (``connect`` opens the host's shell,
    whose ssh becomes the master); each host's marker exists from before its
    login starts until it has succeeded or failed (then a note beside it
    holds the cause, see ``shell.failure_note``). A host reached through a
    jump host that is also being opened waits for it, then rides its
    connection: one login on the jump host, not one per host behind it.
    ``others_too``: the hosts reached otherwise (docker, local) are opened
    too. In a worker sharing the run's connections nothing is marked: it
    only rides them."""
    owner = not sharing_control_dir()
    chosen = [(node, marker_of(node) if owner else None) for node in {n.name: n for n in nodes}.values()]
    for _, marker in chosen:
        if marker is not None:
            marker.touch(mode=0o600)
    threads = []
    for node, marker in chosen:
        if marker is None and not others_too:
            continue
        thread = threading.Thread(target=_open, args=(node, marker, connect), name=f"master-{node.name}",
                                  daemon=True)
        thread.start()
        threads.append(thread)
    return threads


def _open(node: Node, marker: Path | None, connect: Callable[[Node], object]) -> None:
    try:
        jump = marker_of(node, jump=True) if marker is not None else None
        if jump != marker:
            wait_while_exists(jump, time.monotonic() + JUMP_WAIT_S)
        cause = connect(node)
        if marker is not None and isinstance(cause, str):  # the workers report it rather than wait as long again
            failure_note(marker).write_text(cause.removeprefix(f"{node.name}: unreachable (").removesuffix(")") + "\n")
    finally:
        if marker is not None:
            marker.unlink(missing_ok=True)


def awaited_marker(node: Node) -> Path | None:
    """In a worker sharing the run's connections, the marker its shell waits
    on before connecting (see ``PersistentShell``); None elsewhere."""
    if not sharing_control_dir():
        return None
    try:
        return marker_of(node)
    except OSError:
        return None
