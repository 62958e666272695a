"""Seed 003, Redirecting OMERO.web to the Server (omero-ms-image-region
(OPTIONS); Redis backed sessions; omero-ms-core session lookup): renders
through the public proxy are served by the image-region microservice, which
answers its health check on the render routes and finds the OMERO session
by header, then bsession, then cookie."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control
from deploycheck.facts.msmetrics import read_metrics, served_renders
from deploycheck.facts.omeroweb import omero_session_key
from deploycheck.inventory.loader import cut
from deploycheck.inventory.variables import expect
from deploycheck.transport.together import at_once

if TYPE_CHECKING:
    from deploycheck.facts.proxy import Proxy
    from deploycheck.facts.rendering import Rendering
    from deploycheck.inventory.loader import Inventory, Node

pytestmark = pytest.mark.hosts("proxy")
READS = ("ms_port", "test_image", "ms_metric")

REF = "seed 003: Redirecting OMERO.web to the Server"
REGION = "/webgateway/render_image_region/{id}/0/0/"
RENDERS = 4


def _render_count(inventory: Inventory, metric: str) -> float:
    """Sum over the read-only servers of the microservice's successful
    render_image_region spans. Fails when a server's /metrics cannot tell."""
    total = 0.0
    nodes = inventory.group("omeroreadonly")
    try:  # every server's /metrics read at the same time
        counts = at_once(lambda n: served_renders(read_metrics(n, int(expect(n, "ms_port"))), metric), nodes)
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    for node, count in zip(nodes, counts, strict=True):
        port = int(expect(node, "ms_port"))
        if count is None:
            pytest.fail(f"{node.name}: the microservice's /metrics on port {port} has no {metric} summary "
                        "(http tracing off?); it cannot show which renders it served", pytrace=False)
        total += count
    return total


@control("MSIR-MS-01", "The microservice's OPTIONS health JSON answers through the render routes", "medium",
         "seed 003: omero-ms-image-region (OPTIONS)")
def test_options_through_proxy(node: Node, public_proxy: Proxy) -> None:
    """The health JSON proves that the render routes reach the microservice
    (and with which limits), not OMERO.web's own renderer."""
    r = public_proxy.get(REGION.format(id=expect(node, "test_image")["id"]), method="OPTIONS")
    assert r.status_code == 200, f"{node.name}: OPTIONS on a render route answered {r.status_code}"
    body = r.json()
    assert body.get("provider") == "ImageRegionMicroservice", f"{node.name}: OPTIONS gave {cut(str(body), 120)}"
    assert "maxActiveChannels" in body.get("options", {}), f"{node.name}: health JSON lacks options"


@control("MSIR-MS-02", "Renders through the proxy are served by the microservice", "high", REF)
def test_renders_served_by_ms(node: Node, public_proxy: Proxy, inventory: Inventory,
                              test_rendering: Rendering) -> None:
    """Renders that fall back to OMERO.web work but tie up its workers and
    the OMERO server. Counts the microservice's own successful render spans
    around a few fresh renders through the proxy: each must add one. (Other
    controls may render on a microservice's own port meanwhile, which only
    adds; a few renders keep one such render from passing for them.)"""
    if not inventory.group("omeroreadonly"):
        pytest.skip("inventory has no read-only servers")
    metric = expect(node, "ms_metric")
    before = _render_count(inventory, metric)
    path = REGION.format(id=expect(node, "test_image")["id"]) + test_rendering.query(region="0,0,16,16")
    for r in public_proxy.get_all([path] * RENDERS):
        assert r.status_code == 200, f"{node.name}: render answered {r.status_code}"
    after = _render_count(inventory, metric)
    assert after >= before + RENDERS, (f"{node.name}: the microservice's successful render_image_region spans went "
                                       f"{before:g} -> {after:g} over {RENDERS} renders; they did not reach it")


@control("MSIR-MS-03", "The microservice finds the session by header, then bsession, then cookie", "high",
         "seed 003: Redis backed sessions; omero-ms-core session lookup")
def test_session_lookup_order(node: Node, public_proxy: Proxy, public_cookies: dict[str, str],
                              inventory: Inventory, test_rendering: Rendering) -> None:
    """Clients authenticate renders in three ways; a wrong order lets a bad
    key pass or a good one fail. The OMERO session key is read from the
    public visitor's Django session in Redis on the read-only servers, never
    from a login through the proxy."""
    cookie_value = next(iter(public_cookies.values()))
    keys = [k for k in at_once(lambda h: omero_session_key(h, cookie_value), inventory.group("omeroreadonly")) if k]
    assert keys, f"{node.name}: the public session is in no read-only server's Redis"
    key, bad = keys[0], "00000000-0000-0000-0000-000000000000"
    path = REGION.format(id=expect(node, "test_image")["id"]) + test_rendering.query(region="0,0,16,16")
    cases = [
        ("header alone", {"X-OMERO-Session-Key": key}, "", {}, 200),
        ("bsession alone", {}, f"&bsession={key}", {}, 200),
        ("cookie alone", {}, "", public_cookies, 200),
        ("bad header before good cookie", {"X-OMERO-Session-Key": bad}, "", public_cookies, 403),
        ("bad bsession before good cookie", {}, f"&bsession={bad}", public_cookies, 403),
        ("good header before bad bsession", {"X-OMERO-Session-Key": key}, f"&bsession={bad}", {}, 200),
    ]
    wrong = []
    answers = at_once(lambda case: public_proxy.get(path + case[2], cookies=case[3], headers=case[1]), cases)
    for (name, _, _, _, want), answer in zip(cases, answers, strict=True):
        got = answer.status_code
        if got != want:
            wrong.append(f"{name}: {got} (expected {want})")
    assert not wrong, f"{node.name}: " + "; ".join(wrong)
