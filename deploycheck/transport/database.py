"""PostgreSQL sessions for controls, through a tunnel via the database host.

One tunnel and one session per host, user and process, reused by every
control that needs them (each control gets it reset to the role's defaults,
and checked alive first):
a run then opens one database connection per worker instead of one per control.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import psycopg2

from deploycheck.inventory.loader import Host
from deploycheck.inventory.variables import expect
from deploycheck.transport.remote import HostUnreachableError, reachability
from deploycheck.transport.tunnel import Tunnel

_IDLE: dict[tuple[str, str], tuple[Tunnel, Any]] = {}  # sessions not in use by a control
_LOCK = threading.Lock()


@contextlib.contextmanager
def connect(db_node: Host, user: str, password: str | None) -> Iterator:  # -> psycopg2 connection
    """Connect as ``user`` to the OMERO database, as a client on the database host would."""
    cause = reachability(db_node)
    if cause is not None:
        raise HostUnreachableError(cause)
    key = (db_node.name, user)
    with _LOCK:
        held = _IDLE.pop(key, None)
    if held is not None and not _alive(held[1]):  # the server or the tunnel went away while idle
        _close(*held)
        held = None
    tunnel, conn = held if held is not None else _open(db_node, user, password)
    try:
        yield conn
        conn.reset()  # roll back, RESET ALL: the next control starts from the role's defaults
    except BaseException:
        _close(tunnel, conn)
        raise
    with _LOCK:
        if key in _IDLE:  # another thread parked one meanwhile: keep a single idle session
            _close(tunnel, conn)
        else:
            _IDLE[key] = (tunnel, conn)


def _alive(conn: Any) -> bool:
    if conn.closed:
        return False
    try:
        with conn.cursor() as cur:
            cur.execute("select 1")
        conn.rollback()
        return True
    except psycopg2.Error:
        return False


def _open(db_node: Host, user: str, password: str | None) -> tuple[Tunnel, Any]:
    tunnel = Tunnel(db_node, "127.0.0.1", int(expect(db_node, "db_port")))
    host, port = tunnel.__enter__()
    try:
        conn = psycopg2.connect(host=host, port=port, dbname=expect(db_node, "db_name"), user=user,
                                password=password, connect_timeout=10, application_name="deploycheck")
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
    for tunnel, conn in idle:
        _close(tunnel, conn)
