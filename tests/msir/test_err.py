"""Seed 003, omero-ms-image-region request parameters (and the microservice
piggybacks on the OMERO.web session): a render with a missing or bad
parameter, an unknown image or no valid session is refused with the right
status, naming what was wrong."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control
from deploycheck.inventory.loader import cut
from deploycheck.inventory.variables import expect
from deploycheck.transport.together import at_once

if TYPE_CHECKING:
    import requests

    from deploycheck.inventory.loader import Host

    from ..proxy_checks import Ahead, Proxy
    from ..rendering import Rendering

pytestmark = pytest.mark.hosts("proxy")
READS = ("test_image", "session_cookie_name")

REF = "seed 003: omero-ms-image-region request parameters"
REGION = "/webgateway/render_image_region/{id}/0/0/"


# the requests of the controls below, for the controls and for fetching them ahead (see conftest) alike

def _region(node: Host) -> str:
    return REGION.format(id=expect(node, "test_image")["id"])


def _no_model(node: Host, rendering: Rendering) -> list[str]:
    """Without m=, then with an unknown model."""
    channels = rendering.c(1)
    return [_region(node) + f"?c={channels}&region=0,0,10,10", _region(node) + f"?c={channels}&m=x&region=0,0,10,10"]


def _too_many(node: Host, rendering: Rendering) -> str:
    return _region(node) + f"?c={rendering.c(*range(1, 12))}&m=c&region=0,0,10,10"


def _unknown_image(rendering: Rendering) -> str:
    return REGION.format(id=987654321) + rendering.query(1, region="0,0,10,10")


def _sessions(node: Host, rendering: Rendering) -> list[tuple[str, Ahead]]:
    """A valid render without a session, with an invalid bsession, with an unknown session cookie."""
    path = _region(node) + rendering.query(1, region="0,0,10,10")
    cookie = expect(node, "session_cookie_name")
    return [("no session", (path, {})),
            ("an invalid bsession", (path + "&bsession=00000000-0000-0000-0000-000000000000", {})),
            ("an unknown session cookie", (path, {cookie: "notasession"}))]


LEVELS = (7, -1)


def _bad_levels(node: Host, rendering: Rendering) -> list[str]:
    return [_region(node) + rendering.query(1, tile=f"{level},0,0") for level in LEVELS]


AHEAD: dict[str, Callable[[Host, Rendering], list[str | Ahead]]] = {
    "test_missing_channels": lambda n, r: [_region(n) + "?m=c&region=0,0,10,10"],
    "test_missing_model": _no_model,
    "test_too_many_channels": lambda n, r: [_too_many(n, r)],
    "test_unknown_image": lambda n, r: [_unknown_image(r)],
    "test_no_or_bad_session": lambda n, r: [asked for _, asked in _sessions(n, r)],
    "test_bad_tile_level": _bad_levels,
}


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
    _expect_status(node, public_proxy.get(_region(node) + "?m=c&region=0,0,10,10"), 400, "no c", "'c'")


@control("MSIR-ERR-02", "A render without m= is refused with 400 naming the parameter", "medium", REF)
def test_missing_model(node: Host, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """A clear 400 tells a script's author what to fix; a 500 or a default
    render hides the mistake. An unknown model is refused the same way."""
    no_model, unknown_model = public_proxy.get_all(_no_model(node, test_rendering))
    _expect_status(node, no_model, 400, "no m", "'m'")
    _expect_status(node, unknown_model, 400, "m=x", "'m'")


@control("MSIR-ERR-03", "More than 10 active channels are refused with 400", "medium", REF)
def test_too_many_channels(node: Host, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """The channel limit bounds the work one public request can cause. Every
    active entry counts, repeated or past the image's channels."""
    _expect_status(node, public_proxy.get(_too_many(node, test_rendering)), 400, "11 active channels",
                   "active channels")


@control("MSIR-ERR-04", "An unknown image answers 404", "medium", REF)
def test_unknown_image(node: Host, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """A 404 lets links to removed images fail plainly instead of as a
    server error."""
    _expect_status(node, public_proxy.get(_unknown_image(test_rendering)), 404, "image 987654321",
                   "Image:987654321")


@control("MSIR-ERR-05", "Renders without a session or with an invalid one answer 403", "high",
         "seed 003: the microservice piggybacks on the OMERO.web session")
def test_no_or_bad_session(node: Host, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """Without a valid session the microservice would render any image for
    anyone, private data included. The request is otherwise valid, so only
    the session can be why it is refused."""
    cases = _sessions(node, test_rendering)
    answers = at_once(lambda case: public_proxy.get(case[1][0], cookies=case[1][1]), cases)
    for (what, _), answer in zip(cases, answers, strict=True):
        _expect_status(node, answer, 403, what)


@control("MSIR-ERR-06", "A tile at a resolution level the image lacks is refused", "low", REF)
def test_bad_tile_level(node: Host, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """Viewers probe levels; a level that does not exist must be an error,
    not a wrong picture or a crash. The microservice answers 404 (its
    renderer's failures all are), OMERO.web 400: either is a refusal."""
    wrong = []
    for level, r in zip(LEVELS, public_proxy.get_all(_bad_levels(node, test_rendering)), strict=True):
        if r.status_code not in (400, 404):
            wrong.append(f"tile level {level} answered {r.status_code} ({cut(r.text, 80)!r}); expected 400 or 404")
    assert not wrong, f"{node.name}: " + "; ".join(wrong)
