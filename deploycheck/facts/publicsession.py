"""The anonymous session a visitor opens on a read-only server's OMERO.web,
and whether the microservice beside it finds that session.

A visitor's first page (the public entry, redirects followed) gives an
OMERO.web session cookie; OMERO.web keeps the session in Redis, where the
microservice reads it to authorise renders. The page is asked in the
host's first exchange the planner asks, the session's two checks (its Redis key, a
render with that cookie alone) in the next, once the cookie is known: a
host's checks then cost no round trip of their own, and many hosts' checks
overlap instead of queueing in one worker. Every request here is a GET.
"""

from __future__ import annotations

import shlex

from deploycheck.facts import hostpages, omeroweb
from deploycheck.facts.question import Said, command
from deploycheck.inventory.loader import Node
from deploycheck.inventory.variables import expect
from deploycheck.transport.hostcurl import HostResponse, loopback_url, parse


def opening_command(node: Node) -> str:
    """The public entry on the host's own nginx, as a visitor's browser asks it."""
    return hostpages.command(80, expect(node, "public_entry_path"), follow=True)


def check_commands(node: Node, session_id: str, render_url: str) -> tuple[str, str]:
    """Whether Redis holds the session (prints 1 or 0), and the status of a
    render on the host (``render_url``) with the session cookie alone."""
    cookie = f"{expect(node, 'session_cookie_name')}={session_id}"
    return (omeroweb.session_exists_command(session_id),
            f"curl -s --globoff -o /dev/null -w %{{http_code}} --max-time 10 -b {shlex.quote(cookie)} "
            f"--url {shlex.quote(render_url)}")


def render_url(node: Node) -> str:
    """A small render on the microservice's own port."""
    port, image = int(expect(node, "ms_port")), int(expect(node, "test_image")["id"])
    return f"http://127.0.0.1:{port}/webgateway/render_image_region/{image}/0/0/?c=1%7C0:255%24FFFFFF&m=g" \
           "&region=0,0,8,8"


def _checks(node: Node, page: HostResponse) -> list[str] | None:
    """The session's checks, once the public entry's answer is in; none
    when it gave no cookie (the control reports that)."""
    session_id = page.cookie(expect(node, "session_cookie_name"))
    return list(check_commands(node, session_id, render_url(node))) if session_id else None


def _page(node: Node, said: Said) -> HostResponse:
    return parse(node, loopback_url(80, expect(node, "public_entry_path")), said.rc, said.out, said.err)


visitor_page = command("visitor_page", opening_command, _page)
"""The public entry's last answer on the host's own nginx (a NoAnswerError when none)."""
session_checks = command("session_checks", _checks,
                         lambda node, said: (said[0].out.strip(), said[1].out.strip()), after=visitor_page)
"""(Redis's 1 or 0, the render's status) for the visitor page's session cookie."""
