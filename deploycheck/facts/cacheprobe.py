"""How the public proxy's cache serves two requests for one fresh URL
(MISS then HIT, or never a HIT), as questions: the IDR-CACHE controls'
probes, asked together (every probe at once, the cache statuses read in
one go) when the run starts."""

from __future__ import annotations

from deploycheck.facts.proxy import CACHE_PROBES, Request
from deploycheck.facts.question import Question, ask
from deploycheck.facts.rendering import Rendering, public_cookies, test_rendering
from deploycheck.inventory.loader import Node
from deploycheck.inventory.variables import expect


def path(node: Node, what: str, rendering: Rendering | None = None) -> str:
    """The one path each kind of probe asks."""
    image = expect(node, "test_image")["id"]
    if what in ("render", "missing render"):
        assert rendering is not None
        return (f"/webgateway/render_image_region/{image if what == 'render' else 987654321}/0/0/"
                + rendering.query(1, model="g", region="0,0,64,64" if what == "render" else "0,0,8,8"))
    return {
        "thumbnail": f"/webgateway/render_thumbnail/{image}/",
        "metadata": f"/webclient/metadata_details/image/{image}/",
        "api": f"/api/v0/m/images/{image}/",
        "static": "/static/webclient/css/layout.css",
        "viewer": f"/webclient/img_detail/{image}/",
        "pages": "/webclient/",
        "imgdata": f"/webgateway/imgData/{image}/",
    }[what]


def _probe(name: str, what: str, with_session: bool) -> Question:
    """A probe of ``what``, sent with the public session cookie or with no cookie."""
    def build(node: Node) -> Request:
        return Request(path(node, what), ask(public_cookies, node) if with_session else None)

    return Question(name, build, CACHE_PROBES)


def _render_probe(name: str, what: str) -> Question:
    def build(node: Node, rendering: Rendering) -> Request:
        return Request(path(node, what, rendering), ask(public_cookies, node))

    return Question(name, build, CACHE_PROBES, after=test_rendering)


render = _render_probe("render_probe", "render")
missing_render = _render_probe("missing_render_probe", "missing render")
thumbnail = _probe("thumbnail_probe", "thumbnail", with_session=False)
thumbnail_with_session = _probe("thumbnail_with_session_probe", "thumbnail", with_session=True)
metadata = _probe("metadata_probe", "metadata", with_session=True)
api = _probe("api_probe", "api", with_session=True)
static = _probe("static_probe", "static", with_session=False)
viewer = _probe("viewer_probe", "viewer", with_session=True)
pages = _probe("pages_probe", "pages", with_session=True)
imgdata = _probe("imgdata_probe", "imgdata", with_session=True)
