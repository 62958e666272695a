"""Seed 003, Redirecting OMERO.web to the Server and the OMERO image region
microservice (render_image, render_image_region; tile=level,x,y;
p=intmax|intmean|intsum): through the public proxy, the render endpoints
answer with images of the requested region, tile, level, format and
quality, in the requested colours, model, projection and orientation, as a
viewer needs them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from PIL import Image, ImageChops, ImageStat

from deploycheck.control import control
from deploycheck.facts import renders
from deploycheck.facts.images import decode
from deploycheck.facts.publicdata import pixel_difference
from deploycheck.facts.question import ask
from deploycheck.facts.rendering import read_rendering
from deploycheck.inventory.variables import expect

from .render_checks import ok_image

if TYPE_CHECKING:
    from deploycheck.facts.proxy import Proxy
    from deploycheck.facts.rendering import Rendering
    from deploycheck.inventory.loader import Node

pytestmark = pytest.mark.hosts("proxy")
READS = ("test_image", "big_image")

REF = "seed 003: OMERO image region microservice (render_image, render_image_region)"
REGION = renders.REGION_Z


@control("MSIR-RENDER-01", "render_image_region returns a JPEG of exactly the requested region", "high",
         "seed 003: Redirecting OMERO.web to the Server", reads=(renders.region_size_render,))
def test_render_region_size(node: Node, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """Viewers stitch regions side by side; a region of another size leaves
    gaps or overlaps in what the visitor sees."""
    path, w, h = renders.region_size(node, test_rendering)
    (response,) = ask(renders.region_size_render, node)
    assert response.status_code == 200, f"{node.name}: {path} answered {response.status_code}; expected 200"
    img = decode(response.content, response.headers.get("Content-Type", ""))
    assert img.format == "JPEG" and img.size == (w, h), \
        f"{node.name}: got {img.format} {img.size[0]}x{img.size[1]}; expected JPEG {w}x{h}"


@control("MSIR-RENDER-02", "render_image returns the whole plane as a JPEG of the image's size", "high", REF,
         reads=(renders.image_plane_render,))
def test_render_image_plane(node: Node, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """The full-plane render is what the web client shows first."""
    image = expect(node, "test_image")
    img = ok_image(node, ask(renders.image_plane_render, node)[0], "render_image")
    want = (image["size_x"], image["size_y"])
    assert img.size == want, f"{node.name}: render_image is {img.size}; expected {want}"


@control("MSIR-RENDER-03", "render_image_region with tile= returns the requested tile", "high", REF,
         reads=(renders.tile_render,))
def test_render_tile(node: Node, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """Tiled viewers ask for tiles, not regions; a wrong tile shows the
    wrong part of the image."""
    img = ok_image(node, ask(renders.tile_render, node)[0], "tile 0,0,0,128,96")
    assert img.size == (128, 96), f"{node.name}: tile is {img.size}; expected (128, 96)"


@control("MSIR-RENDER-04", "Every resolution level of a pyramid image serves tiles of the right size", "high",
         "seed 003: render_image_region tile=level,x,y (level 0 = full resolution)")
def test_pyramid_levels(node: Node, public_proxy: Proxy) -> None:
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


@control("MSIR-RENDER-05", "The _rdef render routes answer like the plain ones", "medium", REF,
         reads=(renders.rdef_renders,))
def test_rdef_variants(node: Node, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """Viewers that save rendering settings use the _rdef routes; they must
    reach the same renderer."""
    image = expect(node, "test_image")
    plain, rdef, whole = ask(renders.rdef_renders, node)
    a, b = ok_image(node, plain, "render_image_region"), ok_image(node, rdef, "render_image_region_rdef")
    assert a.size == b.size == (40, 30), f"{node.name}: sizes {a.size} and {b.size}; expected (40, 30)"
    img = ok_image(node, whole, "render_image_rdef")
    assert img.size == (image["size_x"], image["size_y"]), f"{node.name}: render_image_rdef is {img.size}"


@control("MSIR-RENDER-06", "m=g renders grayscale", "medium", REF, reads=(renders.greyscale_render,))
def test_greyscale_model(node: Node, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """Grey renders are how single channels are compared; colour in them
    misleads the eye."""
    img = ok_image(node, ask(renders.greyscale_render, node)[0], "m=g render").convert("RGB")
    r, g, b = img.split()
    spread = max(pixel_difference(r, g)[0], pixel_difference(g, b)[0])
    assert spread <= 8, f"{node.name}: m=g render has colour (channel spread {spread}); expected grey"


@control("MSIR-RENDER-07", "Channel colours are honoured", "high", REF, reads=(renders.colour_renders,))
def test_channel_colours(node: Node, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """Channels are told apart by the colours the visitor chose; swapped or
    ignored colours show the wrong biology."""
    means = {}
    answers = ask(renders.colour_renders, node)
    for colour, r in zip(renders.COLOURS, answers, strict=True):
        means[colour] = ImageStat.Stat(ok_image(node, r, f"${colour}", "image/png").convert("RGB")).mean
    wrong = [f"${c} gave RGB means {[round(v) for v in m]}" for c, m in means.items()
             if max(range(3), key=lambda i: m[i]) != renders.COLOURS.index(c)
             or sorted(m)[1] > 2]
    assert not wrong, f"{node.name}: " + "; ".join(wrong)


@control("MSIR-RENDER-08", "format=png and format=tif return PNG and TIFF", "medium", REF,
         reads=(renders.format_renders,))
def test_formats(node: Node, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """Lossless formats are what analysis scripts download; a JPEG in their
    place alters the pixel values."""
    answers = ask(renders.format_renders, node)
    for (fmt, ctype), r in zip(renders.FORMATS, answers, strict=True):
        img = ok_image(node, r, f"format={fmt}", ctype)
        assert img.size == (32, 16), f"{node.name}: format={fmt} is {img.size}; expected (32, 16)"


@control("MSIR-RENDER-09", "q= changes JPEG quality (and size)", "low", REF, reads=(renders.quality_renders,))
def test_quality(node: Node, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """Viewers lower the quality to save bandwidth on slow links; ignored,
    every visitor downloads full-quality images."""
    low, high = ask(renders.quality_renders, node)
    ok_image(node, low, "q=0.1")
    ok_image(node, high, "q=0.95")
    assert len(low.content) < len(high.content), \
        f"{node.name}: q=0.1 gave {len(low.content)} bytes, q=0.95 {len(high.content)}; expected fewer"


@control("MSIR-RENDER-10", "Intensity projections combine the Z planes", "medium",
         "seed 003: p=intmax|intmean|intsum", reads=(renders.projection_renders,))
def test_projection(node: Node, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """A projection shows a whole Z stack at once; a single plane in its
    place hides what lies above and below."""
    image = expect(node, "test_image")
    if image.get("size_z", 1) < 2:
        pytest.skip(f"{node.name}: test_image has a single Z plane")
    *answers, projected = ask(renders.projection_renders, node)
    planes = [ImageStat.Stat(ok_image(node, r, f"z={z}", "image/png").convert("L")).mean[0]
              for z, r in enumerate(answers)]
    proj = ImageStat.Stat(ok_image(node, projected, "p=intmax", "image/png").convert("L")).mean[0]
    assert proj >= max(planes) - 1, f"{node.name}: intmax mean {proj:.1f} below brightest plane {max(planes):.1f}"
    assert proj > min(planes) + 1, f"{node.name}: intmax mean {proj:.1f} equals a single plane; not projected"


@control("MSIR-RENDER-11", "flip=h mirrors the image", "low", REF, reads=(renders.flip_renders,))
def test_flip(node: Node, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """Viewers flip images to match an orientation convention; a flip that
    does nothing shows the specimen the wrong way round. The region spans the
    full width: the microservice mirrors a region's position too, so only
    then is the flipped render the plain one's mirror image."""
    plain_r, flipped_r = ask(renders.flip_renders, node)
    plain = ok_image(node, plain_r, "plain", "image/png").convert("RGB")
    flipped = ok_image(node, flipped_r, "flip=h", "image/png").convert("RGB")
    mirrored = plain.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    assert pixel_difference(mirrored, flipped)[0] == 0, \
        f"{node.name}: flip=h is not the mirror image of the plain render"
    assert ImageChops.difference(plain, flipped).getbbox() is not None, f"{node.name}: flip=h changed nothing"
