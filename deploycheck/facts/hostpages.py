"""Pages a host serves on its own ports that tell a fact and change nothing:
the microservice's OPTIONS health answer, OMERO.web's login page footer.
Asked once per process like every host fact, so the planner asks them
ahead with the host's other facts, in the same round trip."""

from __future__ import annotations

from deploycheck.facts import hostfacts
from deploycheck.inventory.loader import Node
from deploycheck.inventory.variables import expect
from deploycheck.transport import http
from deploycheck.transport.hostcurl import HostResponse, loopback_url, observation_command, parse

RENDER_ROUTE = "/webgateway/render_image_region/1/0/0/"  # OPTIONS here must reach the microservice
LOGIN = "/webclient/login/"


def command(port: int, path: str, method: str = "GET", follow: bool = False) -> str:
    return observation_command(loopback_url(port, path), method, follow=follow)


def page(node: Node, port: int, path: str, method: str = "GET", follow: bool = False) -> HostResponse:
    """The answer of ``method path`` on the host's own port (a NoAnswerError
    when none); with ``follow``, the last answer after redirects."""
    cmd = command(port, path, method, follow)
    if not hostfacts.known(node, cmd):
        http.count_request()
    rc, out, err = hostfacts.command(node, cmd)
    return parse(node, loopback_url(port, path), rc, out, err)


def role_pages(node: Node) -> list[str]:
    """The pages the controls of the host's roles read."""
    asked = []
    if node.has_role("omeroreadonly") or node.has_role("omeroreadwrite"):
        asked.append(command(80, LOGIN))
    if node.has_role("omeroreadonly"):
        asked += [command(int(expect(node, "ms_port")), "/", "OPTIONS"), command(80, RENDER_ROUTE, "OPTIONS")]
    return asked
