"""Seed 003, Redirecting OMERO.web to the Server and the OMERO image region
microservice (render_image, render_image_region; tile=level,x,y;
p=intmax|intmean|intsum): through the public proxy, the render endpoints
answer with images of the requested region, tile, level, format and
quality, in the requested colours, model, projection and orientation, as a
viewer needs them."""

from __future__ import annotations

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


@control("MSIR-RENDER-01", "render_image_region returns a JPEG of exactly the requested region", "high",
         "seed 003: Redirecting OMERO.web to the Server")
def test_render_region_size(node: Host, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """Viewers stitch regions side by side; a region of another size leaves
    gaps or overlaps in what the visitor sees."""
    image = expect(node, "test_image")
    w, h = min(100, image["size_x"]), min(60, image["size_y"])
    path = public_proxy.fresh(f"/webgateway/render_image_region/{image['id']}/0/0/"
                              + test_rendering.query(1, colours={1: "FF0000"}, region=f"0,0,{w},{h}"))
    response = public_proxy.send(path).response
    assert response.status_code == 200, f"{node.name}: {path} answered {response.status_code}; expected 200"
    img = decode(response.content, response.headers.get("Content-Type", ""))
    assert img.format == "JPEG" and img.size == (w, h), \
        f"{node.name}: got {img.format} {img.size[0]}x{img.size[1]}; expected JPEG {w}x{h}"


@control("MSIR-RENDER-02", "render_image returns the whole plane as a JPEG of the image's size", "high", REF)
def test_render_image_plane(node: Host, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """The full-plane render is what the web client shows first."""
    image = expect(node, "test_image")
    img = ok_image(node, public_proxy.get(f"/webgateway/render_image/{image['id']}/0/0/{test_rendering.query()}"),
                   "render_image")
    want = (image["size_x"], image["size_y"])
    assert img.size == want, f"{node.name}: render_image is {img.size}; expected {want}"


@control("MSIR-RENDER-03", "render_image_region with tile= returns the requested tile", "high", REF)
def test_render_tile(node: Host, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """Tiled viewers ask for tiles, not regions; a wrong tile shows the
    wrong part of the image."""
    image = expect(node, "test_image")
    path = REGION.format(id=image["id"], z=0) + test_rendering.query(1, model="g", tile="0,0,0,128,96")
    img = ok_image(node, public_proxy.get(path), "tile 0,0,0,128,96")
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
    q = test_rendering.query(1, colours={1: "FF0000"}, region="0,0,40,30")
    plain, rdef, whole = public_proxy.get_all([
        f"/webgateway/render_image_region/{image['id']}/0/0/{q}",
        f"/webgateway/render_image_region_rdef/{image['id']}/0/0/{q}",
        f"/webgateway/render_image_rdef/{image['id']}/0/0/" + test_rendering.query(1, model="g")])
    a, b = ok_image(node, plain, "render_image_region"), ok_image(node, rdef, "render_image_region_rdef")
    assert a.size == b.size == (40, 30), f"{node.name}: sizes {a.size} and {b.size}; expected (40, 30)"
    img = ok_image(node, whole, "render_image_rdef")
    assert img.size == (image["size_x"], image["size_y"]), f"{node.name}: render_image_rdef is {img.size}"


@control("MSIR-RENDER-06", "m=g renders grayscale", "medium", REF)
def test_greyscale_model(node: Host, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """Grey renders are how single channels are compared; colour in them
    misleads the eye."""
    image = expect(node, "test_image")
    channel = min(2, len(test_rendering.windows))
    query = test_rendering.query(channel, model="g", colours={channel: "00FF00"}, region="0,0,64,64")
    img = ok_image(node, public_proxy.get(REGION.format(id=image["id"], z=0) + query), "m=g render").convert("RGB")
    r, g, b = img.split()
    spread = max(ImageChops.difference(r, g).getextrema()[1], ImageChops.difference(g, b).getextrema()[1])
    assert spread <= 8, f"{node.name}: m=g render has colour (channel spread {spread}); expected grey"


@control("MSIR-RENDER-07", "Channel colours are honoured", "high", REF)
def test_channel_colours(node: Host, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """Channels are told apart by the colours the visitor chose; swapped or
    ignored colours show the wrong biology."""
    image = expect(node, "test_image")
    means = {}
    colours = ("FF0000", "00FF00", "0000FF")
    answers = public_proxy.get_all([REGION.format(id=image["id"], z=0) + test_rendering.query(
        1, colours={1: colour}, region="0,0,128,128", format="png") for colour in colours])
    for colour, r in zip(colours, answers, strict=True):
        means[colour] = ImageStat.Stat(ok_image(node, r, f"${colour}", "image/png").convert("RGB")).mean
    wrong = [f"${c} gave RGB means {[round(v) for v in m]}" for c, m in means.items()
             if max(range(3), key=lambda i: m[i]) != ("FF0000", "00FF00", "0000FF").index(c)
             or sorted(m)[1] > 2]
    assert not wrong, f"{node.name}: " + "; ".join(wrong)


@control("MSIR-RENDER-08", "format=png and format=tif return PNG and TIFF", "medium", REF)
def test_formats(node: Host, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """Lossless formats are what analysis scripts download; a JPEG in their
    place alters the pixel values."""
    image = expect(node, "test_image")
    base = REGION.format(id=image["id"], z=0) + test_rendering.query(1, model="g", region="0,0,32,16")
    formats = (("png", "image/png"), ("tif", "image/tiff"))
    answers = public_proxy.get_all([f"{base}&format={fmt}" for fmt, _ in formats])
    for (fmt, ctype), r in zip(formats, answers, strict=True):
        img = ok_image(node, r, f"format={fmt}", ctype)
        assert img.size == (32, 16), f"{node.name}: format={fmt} is {img.size}; expected (32, 16)"


@control("MSIR-RENDER-09", "q= changes JPEG quality (and size)", "low", REF)
def test_quality(node: Host, public_proxy: Proxy, test_rendering: Rendering) -> None:
    """Viewers lower the quality to save bandwidth on slow links; ignored,
    every visitor downloads full-quality images."""
    image = expect(node, "test_image")
    base = REGION.format(id=image["id"], z=0) + test_rendering.query(region="0,0,200,200")
    low, high = public_proxy.get_all([f"{base}&q=0.1", f"{base}&q=0.95"])
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
    base = REGION.format(id=image["id"], z=0) + test_rendering.query(1, colours={1: "FFFFFF"}, region="0,0,128,128",
                                                                     format="png")
    *answers, projected = public_proxy.get_all([base.replace("/0/0/", f"/{z}/0/") for z in range(image["size_z"])]
                                               + [f"{base}&p=intmax"])
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
    image = expect(node, "test_image")
    region = f"0,0,{image['size_x']},{min(32, image['size_y'])}"
    base = REGION.format(id=image["id"], z=0) + test_rendering.query(region=region, format="png")
    plain_r, flipped_r = public_proxy.get_all([base, f"{base}&flip=h"])
    plain = ok_image(node, plain_r, "plain", "image/png").convert("RGB")
    flipped = ok_image(node, flipped_r, "flip=h", "image/png").convert("RGB")
    mirrored = plain.transpose(0)  # FLIP_LEFT_RIGHT
    diff = ImageChops.difference(mirrored, flipped).getextrema()
    assert max(hi for _, hi in diff) == 0, f"{node.name}: flip=h is not the mirror image of the plain render"
    assert ImageChops.difference(plain, flipped).getbbox() is not None, f"{node.name}: flip=h changed nothing"
