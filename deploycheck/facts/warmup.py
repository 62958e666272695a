"""Opening the hosts' connections early, while pytest still collects (what
is asked once they are open is the planner's, see ``planner``)."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from deploycheck.inventory.loader import Node
from deploycheck.transport import masters
from deploycheck.transport.remote import reachability
from deploycheck.transport.sshstate import sharing_control_dir


def connect_early(nodes: Iterable[Node]) -> list[threading.Thread]:
    """Open the hosts' connections while pytest still collects: over a slow
    link an SSH login through a jump host costs a dozen round trips, which
    then overlap with collection instead of delaying the first control
    (hosts behind a jump host ride its connection, see transport.masters).
    A worker that shares the controller's connections opens nothing now: the
    controller tells it whether a host answers, and its own shell on a host
    (a channel, or a docker exec) opens when a control first runs a command
    there, not on every host by every worker (most controls of a host read
    the answers the controller gathered, and each unused shell costs the
    host a shell and the controller a process)."""
    if sharing_control_dir():
        return []
    return masters.open_connections(nodes, reachability, others_too=True)
