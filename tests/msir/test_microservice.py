"""The image-region microservice behind the proxy (seed 003)."""

from __future__ import annotations

import re
import shlex

import pytest

from deploycheck.control import control
from deploycheck.facts.omeroweb import omero_session_key
from deploycheck.inventory.loader import Inventory
from deploycheck.inventory.variables import expect
from deploycheck.transport import remote

REF = "seed 003: Redirecting OMERO.web to the Server"
REGION = "/webgateway/render_image_region/{id}/0/0/?c=1&m=c&region=0,0,16,16"
GET = "python3 -c \"import sys, urllib.request as u; print(u.urlopen(sys.argv[1], timeout=10).read().decode())\""


def _render_count(inventory: Inventory, metric: str) -> float:
    """Sum over the read-only servers of the microservice's render_image_region 200 counter."""
    total = 0.0
    for node in inventory.group("omeroreadonly"):
        url = f"http://127.0.0.1:{int(expect(node, 'ms_port'))}/metrics"
        out = remote.testinfra_host(node).run(f"{GET} {shlex.quote(url)}")
        assert out.rc == 0, f"{node.name}: GET {url} failed: {(out.stderr.strip().splitlines() or ['?'])[-1]}"
        pattern = rf'^{re.escape(metric)}\{{[^}}]*route="render_image_region"[^}}]*status="200"[^}}]*\}} (\S+)$'
        total += sum(float(v) for v in re.findall(pattern, out.stdout, re.MULTILINE))
    return total


@control("MSIR-MS-01", "The microservice's OPTIONS health JSON answers through the render routes", "medium",
         "seed 003: omero-ms-image-region (OPTIONS)")
@pytest.mark.hosts("proxy")
def test_options_through_proxy(node, fetch) -> None:  # noqa: ANN001
    image = expect(node, "test_image")
    r = fetch(REGION.format(id=image["id"]), method="OPTIONS")
    assert r.status_code == 200, f"{node.name}: OPTIONS on a render route answered {r.status_code}"
    body = r.json()
    assert body.get("provider") == "ImageRegionMicroservice", f"{node.name}: OPTIONS gave {str(body)[:120]}"
    assert "maxActiveChannels" in body.get("options", {}), f"{node.name}: health JSON lacks options"


@control("MSIR-MS-02", "Renders through the proxy are served by the microservice", "high", REF)
@pytest.mark.hosts("proxy")
def test_renders_served_by_ms(node, fetch, inventory: Inventory) -> None:  # noqa: ANN001
    """Counts the microservice's own requests metric around one fresh render."""
    if not inventory.group("omeroreadonly"):
        pytest.skip("inventory has no read-only servers")
    metric = expect(node, "ms_metric")
    before = _render_count(inventory, metric)
    r = fetch(REGION.format(id=expect(node, "test_image")["id"]))
    assert r.status_code == 200, f"{node.name}: render answered {r.status_code}"
    after = _render_count(inventory, metric)
    assert after >= before + 1, (f"{node.name}: {metric} for render_image_region went {before:g} -> {after:g}; "
                                 "the render did not reach the microservice")


@control("MSIR-MS-03", "The microservice finds the session by header, then bsession, then cookie", "high",
         "seed 003: Redis backed sessions; omero-ms-core session lookup")
@pytest.mark.hosts("proxy")
def test_session_lookup_order(node, fetch, public_cookies, inventory: Inventory) -> None:  # noqa: ANN001
    """The OMERO session key is read from the public visitor's Django session
    in Redis on the read-only servers, never from a login through the proxy."""
    cookie_value = next(iter(public_cookies.values()))
    keys = [k for h in inventory.group("omeroreadonly") if (k := omero_session_key(h, cookie_value))]
    assert keys, f"{node.name}: the public session is in no read-only server's Redis"
    key, bad = keys[0], "00000000-0000-0000-0000-000000000000"
    path = REGION.format(id=expect(node, "test_image")["id"])
    cases = [
        ("header alone", {"X-OMERO-Session-Key": key}, "", {}, 200),
        ("bsession alone", {}, f"&bsession={key}", {}, 200),
        ("cookie alone", {}, "", public_cookies, 200),
        ("bad header before good cookie", {"X-OMERO-Session-Key": bad}, "", public_cookies, 403),
        ("bad bsession before good cookie", {}, f"&bsession={bad}", public_cookies, 403),
        ("good header before bad bsession", {"X-OMERO-Session-Key": key}, f"&bsession={bad}", {}, 200),
    ]
    wrong = []
    for name, headers, query, cookies, want in cases:
        got = fetch(path + query, cookies=cookies, headers=headers).status_code
        if got != want:
            wrong.append(f"{name}: {got} (expected {want})")
    assert not wrong, f"{node.name}: " + "; ".join(wrong)
