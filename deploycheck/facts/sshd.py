"""sshd's effective settings as ``sshd -T`` resolves them, globally or for one
connection (``-C``), so Match blocks count."""

from __future__ import annotations

from deploycheck.facts import hostfacts
from deploycheck.inventory.loader import Node

# connections from an outside address (TEST-NET-3): as root, and as an ordinary user
OUTSIDE_CONNECTIONS = ("user=root,host=outside.invalid,addr=203.0.113.7",
                       "user=deploycheck-probe,host=outside.invalid,addr=203.0.113.7")


def command(connection: str = "") -> str:
    return f"sshd -T{f' -C {connection}' if connection else ''} 2>/dev/null"


def commands() -> list[str]:
    """The global settings and those of every outside connection."""
    return [command(), *(command(c) for c in OUTSIDE_CONNECTIONS)]


def settings(node: Node, connection: str = "") -> dict[str, str]:
    """Lower-case keyword -> value; empty when sshd printed nothing."""
    return dict(line.split(" ", 1) for line in hostfacts.output(node, command(connection)).splitlines() if " " in line)
