"""The render requests of the MSIR-RENDER and MSIR-ERR controls, as
questions: GETs through the public proxy, each on a URL new to the cache,
with the public user's session unless a request names its own cookies.
They depend on nothing but the inventory and the test image's rendering
settings, so the planner asks them all at once when the run starts."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from deploycheck.facts.proxy import SITE_GETS, Request, responses
from deploycheck.facts.question import Question, ask
from deploycheck.facts.rendering import Rendering, public_cookies, test_rendering
from deploycheck.inventory.loader import Node
from deploycheck.inventory.variables import expect

REGION_Z = "/webgateway/render_image_region/{id}/{z}/0/"
REGION = "/webgateway/render_image_region/{id}/0/0/"
COLOURS = ("FF0000", "00FF00", "0000FF")
FORMATS = (("png", "image/png"), ("tif", "image/tiff"))
LEVELS = (7, -1)
Sent = str | tuple[str, dict[str, str]]  # a path (sent with the public session), or a path and its own cookies


def region_size(node: Node, rendering: Rendering) -> tuple[str, int, int]:
    image = expect(node, "test_image")
    w, h = min(100, image["size_x"]), min(60, image["size_y"])
    return (f"/webgateway/render_image_region/{image['id']}/0/0/"
            + rendering.query(1, colours={1: "FF0000"}, region=f"0,0,{w},{h}")), w, h


def image_plane(node: Node, rendering: Rendering) -> str:
    return f"/webgateway/render_image/{expect(node, 'test_image')['id']}/0/0/{rendering.query()}"


def tile(node: Node, rendering: Rendering) -> str:
    return REGION_Z.format(id=expect(node, "test_image")["id"], z=0) + rendering.query(1, model="g",
                                                                                         tile="0,0,0,128,96")


def rdef_variants(node: Node, rendering: Rendering) -> list[str]:
    image = expect(node, "test_image")
    q = rendering.query(1, colours={1: "FF0000"}, region="0,0,40,30")
    return [f"/webgateway/render_image_region/{image['id']}/0/0/{q}",
            f"/webgateway/render_image_region_rdef/{image['id']}/0/0/{q}",
            f"/webgateway/render_image_rdef/{image['id']}/0/0/" + rendering.query(1, model="g")]


def greyscale(node: Node, rendering: Rendering) -> str:
    channel = min(2, len(rendering.windows))
    return REGION_Z.format(id=expect(node, "test_image")["id"], z=0) + rendering.query(
        channel, model="g", colours={channel: "00FF00"}, region="0,0,64,64")


def colours(node: Node, rendering: Rendering) -> list[str]:
    return [REGION_Z.format(id=expect(node, "test_image")["id"], z=0) + rendering.query(
        1, colours={1: colour}, region="0,0,128,128", format="png") for colour in COLOURS]


def formats(node: Node, rendering: Rendering) -> list[str]:
    base = REGION_Z.format(id=expect(node, "test_image")["id"], z=0) + rendering.query(1, model="g",
                                                                                         region="0,0,32,16")
    return [f"{base}&format={fmt}" for fmt, _ in FORMATS]


def quality(node: Node, rendering: Rendering) -> list[str]:
    base = REGION_Z.format(id=expect(node, "test_image")["id"], z=0) + rendering.query(region="0,0,200,200")
    return [f"{base}&q=0.1", f"{base}&q=0.95"]


def projection(node: Node, rendering: Rendering) -> list[str]:
    """Every Z plane, then their maximum intensity projection (none for a single plane)."""
    image = expect(node, "test_image")
    if image.get("size_z", 1) < 2:
        return []
    base = REGION_Z.format(id=image["id"], z=0) + rendering.query(1, colours={1: "FFFFFF"}, region="0,0,128,128",
                                                                 format="png")
    return [base.replace("/0/0/", f"/{z}/0/") for z in range(image["size_z"])] + [f"{base}&p=intmax"]


def flip(node: Node, rendering: Rendering) -> list[str]:
    image = expect(node, "test_image")
    base = REGION_Z.format(id=image["id"], z=0) + rendering.query(
        region=f"0,0,{image['size_x']},{min(32, image['size_y'])}", format="png")
    return [base, f"{base}&flip=h"]


def region(node: Node) -> str:
    return REGION.format(id=expect(node, "test_image")["id"])


def missing_channels(node: Node) -> str:
    return region(node) + "?m=c&region=0,0,10,10"


def no_model(node: Node, rendering: Rendering) -> list[str]:
    """Without m=, then with an unknown model."""
    channels = rendering.c(1)
    return [region(node) + f"?c={channels}&region=0,0,10,10", region(node) + f"?c={channels}&m=x&region=0,0,10,10"]


def too_many(node: Node, rendering: Rendering) -> str:
    return region(node) + f"?c={rendering.c(*range(1, 12))}&m=c&region=0,0,10,10"


def unknown_image(rendering: Rendering) -> str:
    return REGION.format(id=987654321) + rendering.query(1, region="0,0,10,10")


def sessions(node: Node, rendering: Rendering) -> list[tuple[str, tuple[str, dict[str, str]]]]:
    """A valid render without a session, with an invalid bsession, with an unknown session cookie."""
    path = region(node) + rendering.query(1, region="0,0,10,10")
    cookie = expect(node, "session_cookie_name")
    return [("no session", (path, {})),
            ("an invalid bsession", (path + "&bsession=00000000-0000-0000-0000-000000000000", {})),
            ("an unknown session cookie", (path, {cookie: "notasession"}))]


def bad_levels(node: Node, rendering: Rendering) -> list[str]:
    return [region(node) + rendering.query(1, tile=f"{level},0,0") for level in LEVELS]


def _requests(node: Node, sent: Sequence[Sent]) -> list[Request]:
    cookies = ask(public_cookies, node)
    return [Request(s, cookies) if isinstance(s, str) else Request(s[0], s[1]) for s in sent]


def _renders(name: str, paths: Callable[[Node, Rendering], Sequence[Sent]]) -> Question:
    return Question(name, lambda node, rendering: _requests(node, paths(node, rendering)) or None, SITE_GETS,
                    responses, after=test_rendering)


region_size_render = _renders("region_size_render", lambda n, r: [region_size(n, r)[0]])
image_plane_render = _renders("image_plane_render", lambda n, r: [image_plane(n, r)])
tile_render = _renders("tile_render", lambda n, r: [tile(n, r)])
rdef_renders = _renders("rdef_renders", rdef_variants)
greyscale_render = _renders("greyscale_render", lambda n, r: [greyscale(n, r)])
colour_renders = _renders("colour_renders", colours)
format_renders = _renders("format_renders", formats)
quality_renders = _renders("quality_renders", quality)
projection_renders = _renders("projection_renders", projection)
flip_renders = _renders("flip_renders", flip)
missing_channels_render = Question("missing_channels_render", lambda node: _requests(node, [missing_channels(node)]),
                                   SITE_GETS, responses)
no_model_renders = _renders("no_model_renders", no_model)
too_many_render = _renders("too_many_render", lambda n, r: [too_many(n, r)])
unknown_image_render = _renders("unknown_image_render", lambda n, r: [unknown_image(r)])
session_renders = _renders("session_renders", lambda n, r: [asked for _, asked in sessions(n, r)])
bad_level_renders = _renders("bad_level_renders", bad_levels)
