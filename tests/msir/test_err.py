"""Seed 003, omero-ms-image-region request parameters (and the microservice
piggybacks on the OMERO.web session): a render with a missing or bad
parameter, an unknown image or no valid session is refused with the right
status, naming what was wrong."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control
from deploycheck.facts import renders
from deploycheck.facts.question import ask
from deploycheck.inventory.loader import cut

if TYPE_CHECKING:
    import requests

    from deploycheck.facts.proxy import Proxy
    from deploycheck.facts.rendering import Rendering
    from deploycheck.inventory.loader import Node

pytestmark = pytest.mark.hosts("proxy")
READS = ()  # test_image and session_cookie_name, through facts.renders

REF = "seed 003: omero-ms-image-region request parameters"


def _expect_status(node: Node, response: requests.Response, status: int, what: str,
                   must_name: str | None = None) -> None:
    body = response.text[:200]
    assert response.status_code == status, f"{node.name}: {what} answered {response.status_code} ({body!r}); " \
                                           f"expected {status}"
    if must_name:
        assert must_name in body, f"{node.name}: {what} answered {status} without naming {must_name}: {body!r}"


@control("MSIR-ERR-01", "A render without c= is refused with 400 naming the parameter", "medium", REF,
         reads=(renders.missing_channels_render,))
def test_missing_channels(node: Node, public_proxy: Proxy) -> None:
    """A clear 400 tells a script's author what to fix; a 500 or a default
    render hides the mistake."""
    _expect_status(node, ask(renders.missing_channels_render, node)[0], 400, "no c", "'c'")


@control("MSIR-ERR-02", "A render without m= is refused with 400 naming the parameter", "medium", REF,
         reads=(renders.no_model_renders,))
def test_missing_model(node: Node, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """A clear 400 tells a script's author what to fix; a 500 or a default
    render hides the mistake. An unknown model is refused the same way."""
    no_model, unknown_model = ask(renders.no_model_renders, node)
    _expect_status(node, no_model, 400, "no m", "'m'")
    _expect_status(node, unknown_model, 400, "m=x", "'m'")


@control("MSIR-ERR-03", "More than 10 active channels are refused with 400", "medium", REF,
         reads=(renders.too_many_render,))
def test_too_many_channels(node: Node, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """The channel limit bounds the work one public request can cause. Every
    active entry counts, repeated or past the image's channels."""
    _expect_status(node, ask(renders.too_many_render, node)[0], 400, "11 active channels",
                   "active channels")


@control("MSIR-ERR-04", "An unknown image answers 404", "medium", REF, reads=(renders.unknown_image_render,))
def test_unknown_image(node: Node, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """A 404 lets links to removed images fail plainly instead of as a
    server error."""
    _expect_status(node, ask(renders.unknown_image_render, node)[0], 404, "image 987654321",
                   "Image:987654321")


@control("MSIR-ERR-05", "Renders without a session or with an invalid one answer 403", "high",
         "seed 003: the microservice piggybacks on the OMERO.web session", reads=(renders.session_renders,))
def test_no_or_bad_session(node: Node, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """Without a valid session the microservice would render any image for
    anyone, private data included. The request is otherwise valid, so only
    the session can be why it is refused."""
    cases = renders.sessions(node, test_rendering)
    answers = ask(renders.session_renders, node)
    for (what, _), answer in zip(cases, answers, strict=True):
        _expect_status(node, answer, 403, what)


@control("MSIR-ERR-06", "A tile at a resolution level the image lacks is refused", "low", REF,
         reads=(renders.bad_level_renders,))
def test_bad_tile_level(node: Node, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """Viewers probe levels; a level that does not exist must be an error,
    not a wrong picture or a crash. The microservice answers 404 (its
    renderer's failures all are), OMERO.web 400: either is a refusal."""
    wrong = []
    for level, r in zip(renders.LEVELS, ask(renders.bad_level_renders, node), strict=True):
        if r.status_code not in (400, 404):
            wrong.append(f"tile level {level} answered {r.status_code} ({cut(r.text, 80)!r}); expected 400 or 404")
    assert not wrong, f"{node.name}: " + "; ".join(wrong)
