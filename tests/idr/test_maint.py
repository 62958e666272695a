"""Seed 000, Planned production maintenance: the flag file on idr-proxy
switches every OMERO.web path to the maintenance page (503) while static
files keep working, and it is gone once a deploy is over."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control
from deploycheck.facts import hostfacts
from deploycheck.inventory.loader import cut
from deploycheck.inventory.variables import expect

if TYPE_CHECKING:
    import testinfra.host

    from deploycheck.facts.proxy import Proxy
    from deploycheck.inventory.loader import Node

pytestmark = pytest.mark.hosts("proxy")
READS = ("maintenance_flag", "test_image")

REF = "seed 000: Planned production maintenance"


@control("IDR-MAINT-01", "The maintenance flag is absent after a deploy", "high", REF, shell=True)
def test_maintenance_flag_absent(node: Node, proxy: Proxy,
                                 public_cookies: dict[str, str]) -> None:
    """While the flag exists every OMERO.web request gets the maintenance page.
    The site itself must be out of maintenance too: a flag the proxy's
    configuration reads from another path, or a maintenance switch left in
    it, shows only in its answers."""
    flag = expect(node, "maintenance_flag")
    assert not hostfacts.path(node, flag).exists, f"{node.name}: {flag} exists; the site answers 503 maintenance pages"
    r = proxy.get("/webclient/", public_cookies)
    page = "the maintenance page" if "maintenance" in r.text.lower() else repr(cut(r.text, 60))
    assert r.status_code != 503, f"{node.name}: /webclient/ answers 503 ({page}) though {flag} is absent"


@control("IDR-MAINT-02", "With the maintenance flag every OMERO.web path answers 503 with the maintenance "
         "page, static files still answer, and all is normal again without it", "high", REF)
@pytest.mark.disruptive
def test_maintenance_page(node: Node, host: testinfra.host.Host, proxy: Proxy, public_cookies: dict[str, str],
                          request: pytest.FixtureRequest) -> None:
    """Operators rely on the flag to take OMERO.web down cleanly; it must
    cover every path and come off again. Restores the flag as it was."""
    flag = expect(node, "maintenance_flag")
    existed = host.file(flag).exists
    restore = f"touch {shlex.quote(flag)}" if existed else f"rm -f {shlex.quote(flag)}"

    def put_back() -> None:
        host.run(restore)
        hostfacts.forget(node)

    request.addfinalizer(put_back)
    image = expect(node, "test_image")["id"]
    web_paths = ["/webclient/", f"/webgateway/render_thumbnail/{image}/", f"/api/v0/m/images/{image}/"]
    static = "/static/webclient/css/layout.css"

    assert host.run(f"touch {shlex.quote(flag)}").rc == 0, f"{node.name}: cannot create {flag}"
    wrong = []
    for path in web_paths:
        r = proxy.get(path, public_cookies)
        if r.status_code != 503 or "maintenance" not in r.text.lower():
            wrong.append(f"{path} -> {r.status_code}")
    r = proxy.get(static)
    if r.status_code != 200:
        wrong.append(f"{static} -> {r.status_code} (static files must keep working)")
    assert not wrong, f"{node.name}: with {flag}: " + "; ".join(wrong)

    assert host.run(f"rm -f {shlex.quote(flag)}").rc == 0, f"{node.name}: cannot remove {flag}"
    back = [p for p in web_paths if proxy.get(p, public_cookies).status_code != 200]
    assert not back, f"{node.name}: without {flag} still failing: {back}"
