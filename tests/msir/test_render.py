"""Seed 003, Redirecting OMERO.web to the Server and the OMERO image region
microservice (render_image, render_image_region; tile=level,x,y;
p=intmax|intmean|intsum): through the public proxy, the render endpoints
answer with images of the requested region, tile, level, format and
quality, in the requested colours, model, projection and orientation, as a
viewer needs them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from PIL import ImageChops, ImageStat

from deploycheck.control import control
from deploycheck.facts.images import decode
from deploycheck.inventory.variables import expect

from ..rendering import read_rendering
from .render_checks import ok_image

if TYPE_CHECKING:
    from deploycheck.inventory.loader import Host

    from ..proxy_checks import Proxy
    from ..rendering import Rendering

pytestmark = pytest.mark.hosts("proxy")
READS = ("test_image", "big_image")

REF = "seed 003: OMERO image region microservice (render_image, render_image_region)"
REGION = "/webgateway/render_image_region/{id}/{z}/0/"


# the requests of the controls below, for the controls and for fetching them ahead (see conftest) alike

def _region_size(node: Host, rendering: Rendering) -> tuple[str, int, int]:
    image = expect(node, "test_image")
    w, h = min(100, image["size_x"]), min(60, image["size_y"])
    return (f"/webgateway/render_image_region/{image['id']}/0/0/"
            + rendering.query(1, colours={1: "FF0000"}, region=f"0,0,{w},{h}")), w, h


def _image_plane(node: Host, rendering: Rendering) -> str:
    return f"/webgateway/render_image/{expect(node, 'test_image')['id']}/0/0/{rendering.query()}"


def _tile(node: Host, rendering: Rendering) -> str:
    return REGION.format(id=expect(node, "test_image")["id"], z=0) + rendering.query(1, model="g",
                                                                                       tile="0,0,0,128,96")


def _rdef_variants(node: Host, rendering: Rendering) -> list[str]:
    image = expect(node, "test_image")
    q = rendering.query(1, colours={1: "FF0000"}, region="0,0,40,30")
    return [f"/webgateway/render_image_region/{image['id']}/0/0/{q}",
            f"/webgateway/render_image_region_rdef/{image['id']}/0/0/{q}",
            f"/webgateway/render_image_rdef/{image['id']}/0/0/" + rendering.query(1, model="g")]


def _greyscale(node: Host, rendering: Rendering) -> str:
    channel = min(2, len(rendering.windows))
    return REGION.format(id=expect(node, "test_image")["id"], z=0) + rendering.query(
        channel, model="g", colours={channel: "00FF00"}, region="0,0,64,64")


COLOURS = ("FF0000", "00FF00", "0000FF")


def _colours(node: Host, rendering: Rendering) -> list[str]:
    return [REGION.format(id=expect(node, "test_image")["id"], z=0) + rendering.query(
        1, colours={1: colour}, region="0,0,128,128", format="png") for colour in COLOURS]


FORMATS = (("png", "image/png"), ("tif", "image/tiff"))


def _formats(node: Host, rendering: Rendering) -> list[str]:
    base = REGION.format(id=expect(node, "test_image")["id"], z=0) + rendering.query(1, model="g",
                                                                                       region="0,0,32,16")
    return [f"{base}&format={fmt}" for fmt, _ in FORMATS]


def _quality(node: Host, rendering: Rendering) -> list[str]:
    base = REGION.format(id=expect(node, "test_image")["id"], z=0) + rendering.query(region="0,0,200,200")
    return [f"{base}&q=0.1", f"{base}&q=0.95"]


def _projection(node: Host, rendering: Rendering) -> list[str]:
    """Every Z plane, then their maximum intensity projection (none for a single plane)."""
    image = expect(node, "test_image")
    if image.get("size_z", 1) < 2:
        return []
    base = REGION.format(id=image["id"], z=0) + rendering.query(1, colours={1: "FFFFFF"}, region="0,0,128,128",
                                                               format="png")
    return [base.replace("/0/0/", f"/{z}/0/") for z in range(image["size_z"])] + [f"{base}&p=intmax"]


def _flip(node: Host, rendering: Rendering) -> list[str]:
    image = expect(node, "test_image")
    base = REGION.format(id=image["id"], z=0) + rendering.query(
        region=f"0,0,{image['size_x']},{min(32, image['size_y'])}", format="png")
    return [base, f"{base}&flip=h"]


AHEAD: dict[str, Callable[[Host, Rendering], list[str]]] = {
    "test_render_region_size": lambda n, r: [_region_size(n, r)[0]],
    "test_render_image_plane": lambda n, r: [_image_plane(n, r)],
    "test_render_tile": lambda n, r: [_tile(n, r)],
    "test_rdef_variants": _rdef_variants,
    "test_greyscale_model": lambda n, r: [_greyscale(n, r)],
    "test_channel_colours": _colours,
    "test_formats": _formats,
    "test_quality": _quality,
    "test_projection": _projection,
    "test_flip": _flip,
}


@control("MSIR-RENDER-01", "render_image_region returns a JPEG of exactly the requested region", "high",
         "seed 003: Redirecting OMERO.web to the Server")
def test_render_region_size(node: Host, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """Viewers stitch regions side by side; a region of another size leaves
    gaps or overlaps in what the visitor sees."""
    path, w, h = _region_size(node, test_rendering)
    response = public_proxy.get(path)
    assert response.status_code == 200, f"{node.name}: {path} answered {response.status_code}; expected 200"
    img = decode(response.content, response.headers.get("Content-Type", ""))
    assert img.format == "JPEG" and img.size == (w, h), \
        f"{node.name}: got {img.format} {img.size[0]}x{img.size[1]}; expected JPEG {w}x{h}"


@control("MSIR-RENDER-02", "render_image returns the whole plane as a JPEG of the image's size", "high", REF)
def test_render_image_plane(node: Host, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """The full-plane render is what the web client shows first."""
    image = expect(node, "test_image")
    img = ok_image(node, public_proxy.get(_image_plane(node, test_rendering)), "render_image")
    want = (image["size_x"], image["size_y"])
    assert img.size == want, f"{node.name}: render_image is {img.size}; expected {want}"


@control("MSIR-RENDER-03", "render_image_region with tile= returns the requested tile", "high", REF)
def test_render_tile(node: Host, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """Tiled viewers ask for tiles, not regions; a wrong tile shows the
    wrong part of the image."""
    img = ok_image(node, public_proxy.get(_tile(node, test_rendering)), "tile 0,0,0,128,96")
    assert img.size == (128, 96), f"{node.name}: tile is {img.size}; expected (128, 96)"


@control("MSIR-RENDER-04", "Every resolution level of a pyramid image serves tiles of the right size", "high",
         "seed 003: render_image_region tile=level,x,y (level 0 = full resolution)")
def test_pyramid_levels(node: Host, public_proxy: Proxy) -> None:
    """Zooming out of a big image reads the lower levels; a level that fails
    leaves the viewer blank at that zoom."""
    big = expect(node, "big_image")
    if not big:
        pytest.skip(f"{node.name}: inventory names no big_image")
    rendering = read_rendering(public_proxy, int(big["id"]))
    levels = len(rendering.scaling)
    assert levels == big["levels"], f"{node.name}: image {big['id']} has {levels} levels; expected {big['levels']}"
    if rendering.tile_size is None:
        pytest.fail(f"{node.name}: imgData of image {big['id']} gives no tile_size", pytrace=False)
    wrong = []
    tile = REGION.format(id=big["id"], z=0)
    answers = public_proxy.get_all([tile + rendering.query(1, model="g", tile=f"{level},0,0")
                                    for level in range(levels)])
    for (level, scale), r in zip(enumerate(rendering.scaling), answers, strict=True):
        # tile=L,x,y without w,h: the image's own tile size, cut at the level's edge
        width, height = round(big["size_x"] * scale), round(big["size_y"] * scale)
        want = (min(rendering.tile_size[0], width), min(rendering.tile_size[1], height))
        img = decode(r.content, r.headers.get("Content-Type", "")) if r.status_code == 200 else None
        if img is None or img.size != want:
            wrong.append(f"level {level}: {r.status_code} {img.size if img else ''} (want {want})")
    assert not wrong, f"{node.name}: " + "; ".join(wrong)


@control("MSIR-RENDER-05", "The _rdef render routes answer like the plain ones", "medium", REF)
def test_rdef_variants(node: Host, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """Viewers that save rendering settings use the _rdef routes; they must
    reach the same renderer."""
    image = expect(node, "test_image")
    plain, rdef, whole = public_proxy.get_all(_rdef_variants(node, test_rendering))
    a, b = ok_image(node, plain, "render_image_region"), ok_image(node, rdef, "render_image_region_rdef")
    assert a.size == b.size == (40, 30), f"{node.name}: sizes {a.size} and {b.size}; expected (40, 30)"
    img = ok_image(node, whole, "render_image_rdef")
    assert img.size == (image["size_x"], image["size_y"]), f"{node.name}: render_image_rdef is {img.size}"


@control("MSIR-RENDER-06", "m=g renders grayscale", "medium", REF)
def test_greyscale_model(node: Host, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """Grey renders are how single channels are compared; colour in them
    misleads the eye."""
    img = ok_image(node, public_proxy.get(_greyscale(node, test_rendering)), "m=g render").convert("RGB")
    r, g, b = img.split()
    spread = max(ImageChops.difference(r, g).getextrema()[1], ImageChops.difference(g, b).getextrema()[1])
    assert spread <= 8, f"{node.name}: m=g render has colour (channel spread {spread}); expected grey"


@control("MSIR-RENDER-07", "Channel colours are honoured", "high", REF)
def test_channel_colours(node: Host, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """Channels are told apart by the colours the visitor chose; swapped or
    ignored colours show the wrong biology."""
    means = {}
    answers = public_proxy.get_all(_colours(node, test_rendering))
    for colour, r in zip(COLOURS, answers, strict=True):
        means[colour] = ImageStat.Stat(ok_image(node, r, f"${colour}", "image/png").convert("RGB")).mean
    wrong = [f"${c} gave RGB means {[round(v) for v in m]}" for c, m in means.items()
             if max(range(3), key=lambda i: m[i]) != COLOURS.index(c)
             or sorted(m)[1] > 2]
    assert not wrong, f"{node.name}: " + "; ".join(wrong)


@control("MSIR-RENDER-08", "format=png and format=tif return PNG and TIFF", "medium", REF)
def test_formats(node: Host, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """Lossless formats are what analysis scripts download; a JPEG in their
    place alters the pixel values."""
    answers = public_proxy.get_all(_formats(node, test_rendering))
    for (fmt, ctype), r in zip(FORMATS, answers, strict=True):
        img = ok_image(node, r, f"format={fmt}", ctype)
        assert img.size == (32, 16), f"{node.name}: format={fmt} is {img.size}; expected (32, 16)"


@control("MSIR-RENDER-09", "q= changes JPEG quality (and size)", "low", REF)
def test_quality(node: Host, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """Viewers lower the quality to save bandwidth on slow links; ignored,
    every visitor downloads full-quality images."""
    low, high = public_proxy.get_all(_quality(node, test_rendering))
    ok_image(node, low, "q=0.1")
    ok_image(node, high, "q=0.95")
    assert len(low.content) < len(high.content), \
        f"{node.name}: q=0.1 gave {len(low.content)} bytes, q=0.95 {len(high.content)}; expected fewer"


@control("MSIR-RENDER-10", "Intensity projections combine the Z planes", "medium",
         "seed 003: p=intmax|intmean|intsum")
def test_projection(node: Host, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """A projection shows a whole Z stack at once; a single plane in its
    place hides what lies above and below."""
    image = expect(node, "test_image")
    if image.get("size_z", 1) < 2:
        pytest.skip(f"{node.name}: test_image has a single Z plane")
    *answers, projected = public_proxy.get_all(_projection(node, test_rendering))
    planes = [ImageStat.Stat(ok_image(node, r, f"z={z}", "image/png").convert("L")).mean[0]
              for z, r in enumerate(answers)]
    proj = ImageStat.Stat(ok_image(node, projected, "p=intmax", "image/png").convert("L")).mean[0]
    assert proj >= max(planes) - 1, f"{node.name}: intmax mean {proj:.1f} below brightest plane {max(planes):.1f}"
    assert proj > min(planes) + 1, f"{node.name}: intmax mean {proj:.1f} equals a single plane; not projected"


@control("MSIR-RENDER-11", "flip=h mirrors the image", "low", REF)
def test_flip(node: Host, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """Viewers flip images to match an orientation convention; a flip that
    does nothing shows the specimen the wrong way round. The region spans the
    full width: the microservice mirrors a region's position too, so only
    then is the flipped render the plain one's mirror image."""
    plain_r, flipped_r = public_proxy.get_all(_flip(node, test_rendering))
    plain = ok_image(node, plain_r, "plain", "image/png").convert("RGB")
    flipped = ok_image(node, flipped_r, "flip=h", "image/png").convert("RGB")
    mirrored = plain.transpose(0)  # FLIP_LEFT_RIGHT
    diff = ImageChops.difference(mirrored, flipped).getextrema()
    assert max(hi for _, hi in diff) == 0, f"{node.name}: flip=h is not the mirror image of the plain render"
    assert ImageChops.difference(plain, flipped).getbbox() is not None, f"{node.name}: flip=h changed nothing"
