"""Listening TCP sockets of a host, read once with ``ss``."""

from __future__ import annotations


def listening_tcp(host) -> list[tuple[str, int]]:  # noqa: ANN001
    """(address, port) of every listening TCP socket; ``*`` and ``[::]`` count as public."""
    out = host.run("ss -Htln").stdout
    found: list[tuple[str, int]] = []
    for line in out.splitlines():
        cols = line.split()
        if len(cols) < 4:
            continue
        local = cols[3]
        addr, _, port = local.rpartition(":")
        addr = addr.strip("[]").split("%")[0]
        if port.isdigit():
            found.append((addr or "*", int(port)))
    return found
