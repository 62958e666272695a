"""The anonymous session a visitor opens on a read-only server's OMERO.web,
and whether the microservice beside it finds that session.

A visitor's first page (the public entry, redirects followed) gives an
OMERO.web session cookie; OMERO.web keeps the session in Redis, where the
microservice reads it to authorise renders. The page is asked in the
host's first warm-up exchange, the session's two checks (its Redis key, a
render with that cookie alone) in the second, once the cookie is known: a
host's checks then cost no round trip of their own, and many hosts' checks
overlap instead of queueing in one worker. Every request here is a GET.
"""

from __future__ import annotations

import shlex

from deploycheck.facts import hostfacts, hostpages, omeroweb
from deploycheck.inventory.loader import Host
from deploycheck.inventory.variables import expect
from deploycheck.transport.hostcurl import HostResponse


def opening_command(node: Host) -> str:
    """The public entry on the host's own nginx, as a visitor's browser asks it."""
    return hostpages.command(80, expect(node, "public_entry_path"), follow=True)


def opened(node: Host) -> HostResponse:
    """The public entry's last answer (a NoAnswerError when none)."""
    return hostpages.page(node, 80, expect(node, "public_entry_path"), follow=True)


def check_commands(node: Host, session_id: str, render_url: str) -> tuple[str, str]:
    """Whether Redis holds the session (prints 1 or 0), and the status of a
    render on the host (``render_url``) with the session cookie alone."""
    cookie = f"{expect(node, 'session_cookie_name')}={session_id}"
    return (omeroweb.session_exists_command(session_id),
            f"curl -s --globoff -o /dev/null -w %{{http_code}} --max-time 10 -b {shlex.quote(cookie)} "
            f"--url {shlex.quote(render_url)}")


def checks(node: Host, session_id: str, render_url: str) -> tuple[str, str]:
    """(Redis's 1 or 0, the render's status; each empty when it printed
    nothing) for the session."""
    (_, exists, _), (_, status, _) = hostfacts.commands(node, list(check_commands(node, session_id, render_url)))
    return exists.strip(), status.strip()


def ahead(node: Host) -> list[str]:
    return [opening_command(node)]


def ahead_then(node: Host, render_url: str) -> list[str]:
    """The session's checks, once the public entry's answer is in; none
    when it is not, or gave no cookie (the control reports that)."""
    if not hostfacts.known(node, opening_command(node)):
        return []
    session_id = opened(node).cookie(expect(node, "session_cookie_name"))
    return list(check_commands(node, session_id, render_url)) if session_id else []
