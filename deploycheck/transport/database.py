"""PostgreSQL sessions for controls, through a tunnel via the database host.

One tunnel and one session per host, user and process, reused by every
control that needs them (each control gets it reset to the role's defaults,
and checked alive first):
a run then opens one database connection per worker instead of one per control.

Sessions are in autocommit mode: over a slow link each statement is a round
trip, and psycopg2's implicit BEGIN and its reset (three statements) would
double what a control's own queries cost. A control that must not change
data runs its statement through ``rolled_back``.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg2

from deploycheck.inventory.loader import Node
from deploycheck.inventory.variables import expect
from deploycheck.transport.remote import HostUnreachableError, reachability
from deploycheck.transport.tunnel import Tunnel

_IDLE: dict[tuple[str, str], tuple[Tunnel, Any, float]] = {}  # sessions not in use by a control, parked when
_LOCK = threading.Lock()
FRESH_S = 10.0  # a session parked this recently is reused without asking the server first (one round trip less)


@contextlib.contextmanager
def connect(db_node: Node, user: str, password: str | None) -> Iterator:  # -> psycopg2 connection
    """Connect as ``user`` to the OMERO database, as a client on the database host would."""
    cause = reachability(db_node)
    if cause is not None:
        raise HostUnreachableError(cause)
    key = (db_node.name, user)
    with _LOCK:
        held = _IDLE.pop(key, None)
    if held is not None and not _usable(*held):  # the server or the tunnel went away while idle
        _close(held[0], held[1])
        held = None
    tunnel, conn = held[:2] if held is not None else _open(db_node, user, password)
    try:
        yield conn
        _reset(conn)
    except BaseException:
        _close(tunnel, conn)
        raise
    with _LOCK:
        if key in _IDLE:  # another thread parked one meanwhile: keep a single idle session
            _close(tunnel, conn)
        else:
            _IDLE[key] = (tunnel, conn, time.monotonic())


RESET = "ROLLBACK; RESET ALL; SET SESSION AUTHORIZATION DEFAULT"  # one round trip; the rollback only warns if idle


def _reset(conn: Any) -> None:
    """The next control starts from the role's defaults, outside any
    transaction, in autocommit mode, whatever this one did."""
    if not conn.autocommit:  # the control turned it off: psycopg2 ends its transaction first
        conn.rollback()
        conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(RESET)


def rolled_back(conn: Any, statement: str) -> None:
    """Run ``statement`` inside a transaction that is always rolled back: it
    raises as the server refuses it, and changes nothing if it is allowed
    (two round trips: BEGIN travels with the statement)."""
    try:
        with conn.cursor() as cur:
            cur.execute(f"BEGIN; {statement}")
    finally:
        with conn.cursor() as cur:
            cur.execute("ROLLBACK")


def _usable(tunnel: Tunnel, conn: Any, parked: float) -> bool:
    """Asks the server only after a pause: its reset had just succeeded when it was parked."""
    if conn.closed or not tunnel.running():
        return False
    return time.monotonic() - parked < FRESH_S or _alive(conn)


def _alive(conn: Any) -> bool:
    if conn.closed:
        return False
    try:
        with conn.cursor() as cur:
            cur.execute("select 1")
        return True
    except psycopg2.Error:
        return False


def _open(db_node: Node, user: str, password: str | None) -> tuple[Tunnel, Any]:
    tunnel = Tunnel(db_node, "127.0.0.1", int(expect(db_node, "db_port")))
    host, port = tunnel.__enter__()
    try:
        conn = psycopg2.connect(host=host, port=port, dbname=expect(db_node, "db_name"), user=user,
                                password=password, connect_timeout=10, application_name="deploycheck")
        conn.autocommit = True
    except BaseException:
        tunnel.close()
        raise
    return tunnel, conn


def _close(tunnel: Tunnel, conn: Any) -> None:
    with contextlib.suppress(psycopg2.Error):
        conn.close()
    tunnel.close()


@atexit.register
def close_all() -> None:
    """Close the idle sessions and stop their relays when the run ends."""
    with _LOCK:
        idle = list(_IDLE.values())
        _IDLE.clear()
    for tunnel, conn, _ in idle:
        _close(tunnel, conn)
