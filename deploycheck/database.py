"""PostgreSQL sessions for controls, through a tunnel via the database host."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg2

from deploycheck.hosts import HostUnreachableError, reachability
from deploycheck.inventory import Host
from deploycheck.tunnel import Tunnel
from deploycheck.variables import expect


@contextlib.contextmanager
def connect(db_node: Host, user: str, password: str | None) -> Iterator:  # -> psycopg2 connection
    """Connect as ``user`` to the OMERO database, as a client on the database host would."""
    cause = reachability(db_node)
    if cause is not None:
        raise HostUnreachableError(cause)
    with Tunnel(db_node, "127.0.0.1", int(expect(db_node, "db_port"))) as (host, port):
        conn = psycopg2.connect(host=host, port=port, dbname=expect(db_node, "db_name"), user=user,
                                password=password, connect_timeout=10, application_name="deploycheck")
        try:
            yield conn
        finally:
            conn.close()
