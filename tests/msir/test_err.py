"""Seed 003, omero-ms-image-region request parameters (and the microservice
piggybacks on the OMERO.web session): a render with a missing or bad
parameter, an unknown image or no valid session is refused with the right
status, naming what was wrong."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control
from deploycheck.inventory.variables import expect
from deploycheck.transport.together import at_once

if TYPE_CHECKING:
    import requests

    from deploycheck.inventory.loader import Host

    from ..proxy_checks import Proxy
    from ..rendering import Rendering

pytestmark = pytest.mark.hosts("proxy")
READS = ("test_image", "session_cookie_name")

REF = "seed 003: omero-ms-image-region request parameters"
REGION = "/webgateway/render_image_region/{id}/0/0/"


def _expect_status(node: Host, response: requests.Response, status: int, what: str,
                   must_name: str | None = None) -> None:
    body = response.text[:200]
    assert response.status_code == status, f"{node.name}: {what} answered {response.status_code} ({body!r}); " \
                                           f"expected {status}"
    if must_name:
        assert must_name in body, f"{node.name}: {what} answered {status} without naming {must_name}: {body!r}"


@control("MSIR-ERR-01", "A render without c= is refused with 400 naming the parameter", "medium", REF)
def test_missing_channels(node: Host, public_proxy: Proxy) -> None:
    """A clear 400 tells a script's author what to fix; a 500 or a default
    render hides the mistake."""
    image = expect(node, "test_image")
    _expect_status(node, public_proxy.get(REGION.format(id=image["id"]) + "?m=c&region=0,0,10,10"), 400, "no c",
                   "'c'")


@control("MSIR-ERR-02", "A render without m= is refused with 400 naming the parameter", "medium", REF)
def test_missing_model(node: Host, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """A clear 400 tells a script's author what to fix; a 500 or a default
    render hides the mistake. An unknown model is refused the same way."""
    image = expect(node, "test_image")
    channels = test_rendering.c(1)
    _expect_status(node, public_proxy.get(REGION.format(id=image["id"]) + f"?c={channels}&region=0,0,10,10"), 400,
                   "no m", "'m'")
    _expect_status(node, public_proxy.get(REGION.format(id=image["id"]) + f"?c={channels}&m=x&region=0,0,10,10"),
                   400, "m=x", "'m'")


@control("MSIR-ERR-03", "More than 10 active channels are refused with 400", "medium", REF)
def test_too_many_channels(node: Host, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """The channel limit bounds the work one public request can cause. Every
    active entry counts, repeated or past the image's channels."""
    image = expect(node, "test_image")
    channels = test_rendering.c(*range(1, 12))
    _expect_status(node, public_proxy.get(REGION.format(id=image["id"]) + f"?c={channels}&m=c&region=0,0,10,10"),
                   400, "11 active channels", "active channels")


@control("MSIR-ERR-04", "An unknown image answers 404", "medium", REF)
def test_unknown_image(node: Host, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """A 404 lets links to removed images fail plainly instead of as a
    server error."""
    query = test_rendering.query(1, region="0,0,10,10")
    _expect_status(node, public_proxy.get(REGION.format(id=987654321) + query), 404, "image 987654321",
                   "Image:987654321")


@control("MSIR-ERR-05", "Renders without a session or with an invalid one answer 403", "high",
         "seed 003: the microservice piggybacks on the OMERO.web session")
def test_no_or_bad_session(node: Host, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """Without a valid session the microservice would render any image for
    anyone, private data included. The request is otherwise valid, so only
    the session can be why it is refused."""
    image = expect(node, "test_image")
    path = REGION.format(id=image["id"]) + test_rendering.query(1, region="0,0,10,10")
    cookie = expect(node, "session_cookie_name")
    cases = [("no session", "", {}), ("an invalid bsession", "&bsession=00000000-0000-0000-0000-000000000000", {}),
             ("an unknown session cookie", "", {cookie: "notasession"})]
    answers = at_once(lambda case: public_proxy.get(path + case[1], cookies=case[2]), cases)
    for (what, _, _), answer in zip(cases, answers, strict=True):
        _expect_status(node, answer, 403, what)


@control("MSIR-ERR-06", "A tile at a resolution level the image lacks is refused", "low", REF)
def test_bad_tile_level(node: Host, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """Viewers probe levels; a level that does not exist must be an error,
    not a wrong picture or a crash. The microservice answers 404 (its
    renderer's failures all are), OMERO.web 400: either is a refusal."""
    image = expect(node, "test_image")
    wrong = []
    for level in (7, -1):
        r = public_proxy.get(REGION.format(id=image["id"]) + test_rendering.query(1, tile=f"{level},0,0"))
        if r.status_code not in (400, 404):
            wrong.append(f"tile level {level} answered {r.status_code} ({r.text[:80]!r}); expected 400 or 404")
    assert not wrong, f"{node.name}: " + "; ".join(wrong)
