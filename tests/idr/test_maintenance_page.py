"""Planned maintenance (seed 000): the flag file switches OMERO.web to the
maintenance page; static files keep working."""

from __future__ import annotations

import shlex

import pytest

from deploycheck.control import control
from deploycheck.facts import hostfacts
from deploycheck.inventory.variables import expect


@control("IDR-MAINT-02", "With the maintenance flag every OMERO.web path answers 503 with the maintenance "
         "page, static files still answer, and all is normal again without it", "high",
         "seed 000: Planned production maintenance")
@pytest.mark.disruptive
@pytest.mark.hosts("proxy")
def test_maintenance_page(node, host, proxy_client, public_cookies, request: pytest.FixtureRequest) -> None:  # noqa: ANN001
    flag = expect(node, "maintenance_flag")
    existed = host.file(flag).exists
    restore = f"touch {shlex.quote(flag)}" if existed else f"rm -f {shlex.quote(flag)}"
    request.addfinalizer(lambda: (host.run(restore), hostfacts.forget(node)))
    image = expect(node, "test_image")["id"]
    web_paths = ["/webclient/", f"/webgateway/render_thumbnail/{image}/", f"/api/v0/m/images/{image}/"]
    static = "/static/webclient/css/layout.css"

    assert host.run(f"touch {shlex.quote(flag)}").rc == 0, f"{node.name}: cannot create {flag}"
    wrong = []
    for path in web_paths:
        r = proxy_client.get(f"{path}?dc={proxy_client.unique()}", cookies=public_cookies).response
        if r.status_code != 503 or "maintenance" not in r.text.lower():
            wrong.append(f"{path} -> {r.status_code}")
    r = proxy_client.get(f"{static}?dc={proxy_client.unique()}").response
    if r.status_code != 200:
        wrong.append(f"{static} -> {r.status_code} (static files must keep working)")
    assert not wrong, f"{node.name}: with {flag}: " + "; ".join(wrong)

    assert host.run(f"rm -f {shlex.quote(flag)}").rc == 0, f"{node.name}: cannot remove {flag}"
    back = [p for p in web_paths
            if proxy_client.get(f"{p}?dc={proxy_client.unique()}", cookies=public_cookies).response.status_code
            != 200]
    assert not back, f"{node.name}: without {flag} still failing: {back}"
