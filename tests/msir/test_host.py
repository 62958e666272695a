"""Seed 003, Configuring and Running the Server (the microservice needs
read-write access to the binary repository; Redis backed sessions;
Redirecting OMERO.web to the Server): on each read-only server the
microservice can write the binary repository, reads OMERO.web's sessions
from Redis, gets the render routes from the host's nginx and answers its
health check."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control
from deploycheck.facts import hostfacts, hostpages, nginx, omeroweb, publicsession
from deploycheck.facts.question import ask
from deploycheck.inventory.loader import cut
from deploycheck.inventory.variables import expect

if TYPE_CHECKING:
    from deploycheck.inventory.loader import Node

pytestmark = pytest.mark.hosts("omeroreadonly")
READS = ("omero_user", "omero_data_dir", "public_entry_path", "session_cookie_name", "ms_port")  # and test_image

REF = "seed 003: Configuring and Running the Server"


@control("MSIR-HOST-01", "The microservice's user can write the binary repository", "high",
         "seed 003: the microservice needs read-write access to the binary repository", shell=True)
def test_ms_writes_binary_repository(node: Node) -> None:
    """The microservice writes its caches and pyramids into the repository;
    a read-only mount makes those renders fail."""
    user, data = expect(node, "omero_user"), expect(node, "omero_data_dir")
    assert hostfacts.writable_by(node, user, data), f"{node.name}: {data} is not writable by {user}"


@control("MSIR-HOST-02", "OMERO.web keeps its sessions in Redis, where the microservice reads them", "critical",
         "seed 003: Redis backed sessions (filesystem sessions are not supported)",
         reads=(publicsession.visitor_page, publicsession.session_checks))
def test_web_sessions_in_redis(node: Node) -> None:
    """The microservice authenticates every render with the visitor's
    OMERO.web session; sessions kept anywhere else make every render 403.
    Opens a public session on the host's own OMERO.web, looks for it under
    Django's cache-session key in Redis, then renders on the microservice's
    own port with that session cookie alone."""
    url = "http://127.0.0.1" + expect(node, "public_entry_path")
    name = expect(node, "session_cookie_name")
    r = ask(publicsession.visitor_page, node)
    assert r.status < 400, f"{node.name}: GET {url} on the host failed: {r.status}"
    session_id = r.cookie(name)
    assert session_id, f"{node.name}: {url} set no '{name}' cookie"
    # ...and the microservice reads it there: a render with that cookie alone is accepted
    exists, status = ask(publicsession.session_checks, node)
    assert exists == "1", (f"{node.name}: session {omeroweb.session_cache_key(session_id)[:40]}... not in Redis "
                           "db 0; OMERO.web sessions live elsewhere")
    assert status == "200", (f"{node.name}: the microservice answered {status or 'nothing'} to a render with "
                             f"OMERO.web's session cookie; it does not find the sessions OMERO.web keeps")


@control("MSIR-HOST-03", "The host's nginx sends the render routes to the microservice", "high",
         "seed 003: Redirecting OMERO.web to the Server", shell=True)
def test_nginx_routes_to_ms(node: Node) -> None:
    """Without the location blocks, renders silently fall back to OMERO.web
    and the microservice serves nothing. Besides the configuration, an
    OPTIONS on a render route through the host's nginx (port 80) must reach
    the microservice: another location can win over the render routes."""
    config = nginx.dump(node)
    port = int(expect(node, "ms_port"))
    upstreams = {m.group(1) for m in re.finditer(
        rf"upstream\s+(\S+)\s*\{{[^}}]*server\s+(?:127\.0\.0\.1|localhost):{port}\b", config)}
    targets = upstreams | {f"127.0.0.1:{port}", f"localhost:{port}"}
    routed = [m for m in re.finditer(r"location\s+~\s+(\S*render_\S*)\s*\{([^}]*)\}", config)
              if "image_region" in m.group(1) and any(f"http://{t}" in m.group(2) for t in targets)]
    assert routed, f"{node.name}: no nginx location sends render_image_region to port {port}"
    # another location (a ^~ prefix, an earlier regex) may still win: ask the host's nginx itself
    r = hostpages.page(node, 80, hostpages.RENDER_ROUTE, "OPTIONS")
    try:
        provider = json.loads(r.text).get("provider")
    except ValueError:
        provider = None
    assert provider == "ImageRegionMicroservice", (f"{node.name}: OPTIONS on render_image_region through the host's "
                                                   f"nginx gave {r.status} {cut(r.text, 80)!r}, not the microservice")


@control("MSIR-HOST-04", "The microservice answers its OPTIONS health check on the host", "high", REF, shell=True)
def test_ms_health(node: Node) -> None:
    """The health check is how operators and load balancers tell a live
    microservice from a dead one."""
    port = int(expect(node, "ms_port"))
    r = hostpages.page(node, port, "/", "OPTIONS")
    assert r.status == 200, f"{node.name}: OPTIONS http://127.0.0.1:{port}/ failed: {r.status}"
    try:
        provider = json.loads(r.text).get("provider")
    except ValueError:
        provider = None
    assert provider == "ImageRegionMicroservice", \
        f"{node.name}: OPTIONS http://127.0.0.1:{port}/ gave {cut(r.text, 120)!r}"
