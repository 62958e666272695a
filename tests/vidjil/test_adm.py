"""Seed 004, "I can't connect to the web2py administration site": the admin
site is at https://<site>/admin/default/, its password is set in
docker-compose.yml (else a random one is made) or by init database, which
makes it the first Vidjil admin's. It gives full control of the server's
code and data, so it must answer only over HTTPS and never with an empty or
shipped password. Where the operator closed it (nginx refuses /admin, or
web2py disables it), that is a pass, with the reason."""

from __future__ import annotations

import pytest

from deploycheck.control import control, note
from deploycheck.facts import web2pyadmin
from deploycheck.facts.tls import https_client
from deploycheck.inventory.loader import Node
from deploycheck.inventory.variables import expect
from deploycheck.transport.http import Client

pytestmark = pytest.mark.hosts("vidjil")
READS = ("vidjil_url", "http_timeout", "web2py_dir", "web2py_service", "web2py_admin_port", "default_logins")
REF = "seed 004: I can't connect to the web2py administration site"


@control("VIDJIL-ADM-01", "The web2py administration site is never served over plain HTTP", "high", REF)
def test_admin_https_only(node: Node) -> None:
    """Over HTTP its password and session cookie cross the network in clear.
    Acceptable answers: a redirect to HTTPS, a refusal (403/404), or
    web2py's own refusal page; never its login form or its pages."""
    url = expect(node, "vidjil_url")
    if not url:
        pytest.skip(f"{node.name}: inventory sets no vidjil_url (plain HTTP address)")
    seen = web2pyadmin.page(Client(url, float(expect(node, "http_timeout"))))
    if seen.status in (301, 302, 303, 307, 308):
        assert seen.location.startswith("https://"), \
            f"{node.name}: {url}{web2pyadmin.INDEX} redirects to {seen.location or 'nowhere'}, not to HTTPS"
        return
    assert not seen.login_form, f"{node.name}: {url}{web2pyadmin.INDEX} shows web2py's admin login form over HTTP"
    assert seen.status in (403, 404) or (seen.status == 200 and seen.disabled), \
        f"{node.name}: {url}{web2pyadmin.INDEX} answered {seen.status} over HTTP; expected a redirect to HTTPS " \
        "or a refusal"


@control("VIDJIL-ADM-02", "The web2py administration password is neither empty nor a shipped one", "critical",
         REF)
def test_admin_password(node: Node, request: pytest.FixtureRequest) -> None:
    """Whoever logs in there can edit the application's code. Read on the
    host (the hash in parameters_<port>.py, tried here against the empty
    and shipped passwords), never by trying to log in: five failures lock
    the operator out for an hour."""
    seen = web2pyadmin.page(https_client(node))
    if seen.status in (403, 404):
        note(request, f"closed: /admin answers {seen.status} over HTTPS")
        return
    if seen.disabled:
        note(request, f"closed: web2py says \"{seen.disabled}\"")
        return
    assert seen.status == 200 and seen.login_form, \
        f"{node.name}: {web2pyadmin.INDEX} over HTTPS answered {seen.status} without web2py's login form"
    stored = web2pyadmin.stored_password(node)
    if not stored.exists or stored.hash is None:
        pytest.fail(f"{node.name}: the login form is served but {expect(node, 'web2py_dir')}/parameters_"
                    f"{expect(node, 'web2py_admin_port')}.py holds no password in service "
                    f"{expect(node, 'web2py_service')}; set web2py_admin_port to the port web2py sees", pytrace=False)
    shipped = sorted({str(p) for _, p in expect(node, "default_logins")})
    try:
        shipped_one = stored.matches(["", *shipped])
    except web2pyadmin.CannotCheckError as exc:
        pytest.fail(f"{node.name}: the web2py admin password hash: {exc}", pytrace=False)
    assert not shipped_one, \
        f"{node.name}: the web2py admin password is a shipped one (default_logins); anyone can take the server"
