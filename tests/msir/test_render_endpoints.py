"""Render endpoints through the public proxy (seed 003; OMERO.web webgateway):
status, type, magic bytes, decoded size and what a viewer would see."""

from __future__ import annotations

import base64

import pytest
from PIL import ImageChops, ImageStat

from deploycheck.control import control
from deploycheck.facts.images import decode
from deploycheck.inventory.variables import expect

REF = "seed 003: OMERO image region microservice (render_image, render_image_region)"
REGION = "/webgateway/render_image_region/{id}/{z}/0/"


def _ok_image(node, response, what: str, content_type: str = "image/jpeg"):  # noqa: ANN001, ANN202
    assert response.status_code == 200, f"{node.name}: {what} answered {response.status_code}; expected 200"
    got = response.headers.get("Content-Type", "").split(";")[0]
    assert got == content_type, f"{node.name}: {what} is {got or 'untyped'}; expected {content_type}"
    return decode(response.content, got)


@control("MSIR-RENDER-02", "render_image returns the whole plane as a JPEG of the image's size", "high", REF)
@pytest.mark.hosts("proxy")
def test_render_image_plane(node, fetch) -> None:  # noqa: ANN001
    image = expect(node, "test_image")
    img = _ok_image(node, fetch(f"/webgateway/render_image/{image['id']}/0/0/?c=1,2,3&m=c"), "render_image")
    want = (image["size_x"], image["size_y"])
    assert img.size == want, f"{node.name}: render_image is {img.size}; expected {want}"


@control("MSIR-RENDER-03", "render_image_region with tile= returns the requested tile", "high", REF)
@pytest.mark.hosts("proxy")
def test_render_tile(node, fetch) -> None:  # noqa: ANN001
    image = expect(node, "test_image")
    path = REGION.format(id=image["id"], z=0) + "?c=1&m=g&tile=0,0,0,128,96"
    img = _ok_image(node, fetch(path), "tile 0,0,0,128,96")
    assert img.size == (128, 96), f"{node.name}: tile is {img.size}; expected (128, 96)"


@control("MSIR-RENDER-04", "Every resolution level of a pyramid image serves tiles of the right size", "high",
         "seed 003: render_image_region tile=level,x,y (level 0 = full resolution)")
@pytest.mark.hosts("proxy")
def test_pyramid_levels(node, fetch) -> None:  # noqa: ANN001
    big = expect(node, "big_image")
    if not big:
        pytest.skip(f"{node.name}: inventory names no big_image")
    data = fetch(f"/webgateway/imgData/{big['id']}/")
    assert data.status_code == 200, f"{node.name}: imgData {big['id']} answered {data.status_code}"
    levels = data.json().get("levels", 1)
    assert levels == big["levels"], f"{node.name}: image {big['id']} has {levels} levels; expected {big['levels']}"
    wrong = []
    for level in range(levels):
        side = max(big["size_x"], big["size_y"]) >> level
        want = (min(256, side), min(256, side))
        r = fetch(REGION.format(id=big["id"], z=0) + f"?c=1&m=g&tile={level},0,0")
        img = decode(r.content, r.headers.get("Content-Type", "")) if r.status_code == 200 else None
        if img is None or img.size != want:
            wrong.append(f"level {level}: {r.status_code} {img.size if img else ''} (want {want})")
    assert not wrong, f"{node.name}: " + "; ".join(wrong)


@control("MSIR-RENDER-05", "The _rdef render routes answer like the plain ones", "medium", REF)
@pytest.mark.hosts("proxy")
def test_rdef_variants(node, fetch) -> None:  # noqa: ANN001
    image = expect(node, "test_image")
    q = "?c=1|0:4095$FF0000&m=c&region=0,0,40,30"
    plain = fetch(f"/webgateway/render_image_region/{image['id']}/0/0/{q}")
    rdef = fetch(f"/webgateway/render_image_region_rdef/{image['id']}/0/0/{q}")
    a, b = _ok_image(node, plain, "render_image_region"), _ok_image(node, rdef, "render_image_region_rdef")
    assert a.size == b.size == (40, 30), f"{node.name}: sizes {a.size} and {b.size}; expected (40, 30)"
    img = _ok_image(node, fetch(f"/webgateway/render_image_rdef/{image['id']}/0/0/?c=1&m=g"), "render_image_rdef")
    assert img.size == (image["size_x"], image["size_y"]), f"{node.name}: render_image_rdef is {img.size}"


@control("MSIR-RENDER-06", "m=g renders grayscale", "medium", REF)
@pytest.mark.hosts("proxy")
def test_greyscale_model(node, fetch) -> None:  # noqa: ANN001
    image = expect(node, "test_image")
    img = _ok_image(node, fetch(REGION.format(id=image["id"], z=0) + "?c=2|0:4095$00FF00&m=g&region=0,0,64,64"),
                    "m=g render").convert("RGB")
    r, g, b = img.split()
    spread = max(ImageChops.difference(r, g).getextrema()[1], ImageChops.difference(g, b).getextrema()[1])
    assert spread <= 8, f"{node.name}: m=g render has colour (channel spread {spread}); expected grey"


@control("MSIR-RENDER-07", "Channel colours are honoured", "high", REF)
@pytest.mark.hosts("proxy")
def test_channel_colours(node, fetch) -> None:  # noqa: ANN001
    image = expect(node, "test_image")
    means = {}
    for colour in ("FF0000", "00FF00", "0000FF"):
        r = fetch(REGION.format(id=image["id"], z=0) + f"?c=1|0:2000${colour}&m=c&region=0,0,128,128&format=png")
        means[colour] = ImageStat.Stat(_ok_image(node, r, f"${colour}", "image/png").convert("RGB")).mean
    wrong = [f"${c} gave RGB means {[round(v) for v in m]}" for c, m in means.items()
             if max(range(3), key=lambda i: m[i]) != ("FF0000", "00FF00", "0000FF").index(c)
             or sorted(m)[1] > 2]
    assert not wrong, f"{node.name}: " + "; ".join(wrong)


@control("MSIR-RENDER-08", "format=png and format=tif return PNG and TIFF", "medium", REF)
@pytest.mark.hosts("proxy")
def test_formats(node, fetch) -> None:  # noqa: ANN001
    image = expect(node, "test_image")
    base = REGION.format(id=image["id"], z=0) + "?c=1&m=g&region=0,0,32,16"
    for fmt, ctype in (("png", "image/png"), ("tif", "image/tiff")):
        img = _ok_image(node, fetch(f"{base}&format={fmt}"), f"format={fmt}", ctype)
        assert img.size == (32, 16), f"{node.name}: format={fmt} is {img.size}; expected (32, 16)"


@control("MSIR-RENDER-09", "q= changes JPEG quality (and size)", "low", REF)
@pytest.mark.hosts("proxy")
def test_quality(node, fetch) -> None:  # noqa: ANN001
    image = expect(node, "test_image")
    base = REGION.format(id=image["id"], z=0) + "?c=1,2,3&m=c&region=0,0,200,200"
    low, high = fetch(f"{base}&q=0.1"), fetch(f"{base}&q=0.95")
    _ok_image(node, low, "q=0.1"), _ok_image(node, high, "q=0.95")
    assert len(low.content) < len(high.content), \
        f"{node.name}: q=0.1 gave {len(low.content)} bytes, q=0.95 {len(high.content)}; expected fewer"


@control("MSIR-RENDER-10", "Intensity projections combine the Z planes", "medium",
         "seed 003: p=intmax|intmean|intsum")
@pytest.mark.hosts("proxy")
def test_projection(node, fetch) -> None:  # noqa: ANN001
    image = expect(node, "test_image")
    if image.get("size_z", 1) < 2:
        pytest.skip(f"{node.name}: test_image has a single Z plane")
    base = REGION.format(id=image["id"], z=0) + "?c=1|0:4095$FFFFFF&m=c&region=0,0,128,128&format=png"
    planes = [ImageStat.Stat(_ok_image(node, fetch(base.replace("/0/0/", f"/{z}/0/")), f"z={z}",
                                       "image/png").convert("L")).mean[0] for z in range(image["size_z"])]
    proj = ImageStat.Stat(_ok_image(node, fetch(f"{base}&p=intmax"), "p=intmax", "image/png").convert("L")).mean[0]
    assert proj >= max(planes) - 1, f"{node.name}: intmax mean {proj:.1f} below brightest plane {max(planes):.1f}"
    assert proj > min(planes) + 1, f"{node.name}: intmax mean {proj:.1f} equals a single plane; not projected"


@control("MSIR-RENDER-11", "flip=h mirrors the image", "low", REF)
@pytest.mark.hosts("proxy")
def test_flip(node, fetch) -> None:  # noqa: ANN001
    image = expect(node, "test_image")
    base = REGION.format(id=image["id"], z=0) + "?c=1,2,3&m=c&region=0,0,64,32&format=png"
    plain = _ok_image(node, fetch(base), "plain", "image/png").convert("RGB")
    flipped = _ok_image(node, fetch(f"{base}&flip=h"), "flip=h", "image/png").convert("RGB")
    mirrored = plain.transpose(0)  # FLIP_LEFT_RIGHT
    diff = ImageChops.difference(mirrored, flipped).getextrema()
    assert max(hi for _, hi in diff) == 0, f"{node.name}: flip=h is not the mirror image of the plain render"
    assert ImageChops.difference(plain, flipped).getbbox() is not None, f"{node.name}: flip=h changed nothing"


@control("MSIR-THUMB-01", "render_thumbnail defaults to 96 pixels on the longest side", "medium",
         "OMERO.web webgateway render_thumbnail (thumb_default_size 96)")
@pytest.mark.hosts("proxy")
def test_thumbnail_default(node, fetch) -> None:  # noqa: ANN001
    image = expect(node, "test_image")
    img = _ok_image(node, fetch(f"/webgateway/render_thumbnail/{image['id']}/"), "render_thumbnail")
    assert max(img.size) == 96, f"{node.name}: thumbnail is {img.size}; expected 96 on the longest side"


@control("MSIR-THUMB-02", "get_thumbnails returns base64 JPEGs by image id", "medium",
         "OMERO.web webgateway get_thumbnails")
@pytest.mark.hosts("proxy")
def test_get_thumbnails(node, fetch) -> None:  # noqa: ANN001
    image = expect(node, "test_image")
    r = fetch(f"/webgateway/get_thumbnails/?id={image['id']}&id=999999999")
    assert r.status_code == 200, f"{node.name}: get_thumbnails answered {r.status_code}"
    data = r.json()
    uri = data.get(str(image["id"])) or ""
    assert uri.startswith("data:image/jpeg;base64,"), f"{node.name}: no JPEG data URI for {image['id']}: {uri[:40]!r}"
    img = decode(base64.b64decode(uri.split(",", 1)[1]), "image/jpeg")
    assert max(img.size) == 96, f"{node.name}: thumbnail is {img.size}; expected 96 on the longest side"
    assert data.get("999999999") is None, f"{node.name}: unknown image got a thumbnail"


@control("MSIR-DATA-01", "imgData describes the image with its real sizes", "medium",
         "OMERO.web webgateway imgData")
@pytest.mark.hosts("proxy")
def test_img_data(node, fetch) -> None:  # noqa: ANN001
    image = expect(node, "test_image")
    r = fetch(f"/webgateway/imgData/{image['id']}/")
    assert r.status_code == 200, f"{node.name}: imgData answered {r.status_code}"
    size = r.json().get("size", {})
    got = {"size_x": size.get("width"), "size_y": size.get("height"), "size_z": size.get("z"),
           "size_c": size.get("c")}
    want = {k: image[k] for k in got if k in image}
    assert {k: got[k] for k in want} == want, f"{node.name}: imgData sizes {got}; expected {want}"


@control("MSIR-DATA-02", "histogram_json returns one count per requested bin", "low",
         "seed 003: histogram_json")
@pytest.mark.hosts("proxy")
def test_histogram(node, fetch) -> None:  # noqa: ANN001
    image = expect(node, "test_image")
    for bins in (256, 32):
        r = fetch(f"/webgateway/histogram_json/{image['id']}/channel/0/?theZ=0&theT=0&bins={bins}")
        assert r.status_code == 200, f"{node.name}: histogram_json answered {r.status_code}"
        data = r.json().get("data", [])
        total = image["size_x"] * image["size_y"]
        assert len(data) == bins, f"{node.name}: {len(data)} bins; expected {bins}"
        assert sum(data) == total, f"{node.name}: histogram counts {sum(data)} pixels; expected {total}"


@control("MSIR-MASK-01", "render_shape_mask returns the mask as a PNG of its size", "medium",
         "seed 003: render_shape_mask")
@pytest.mark.hosts("proxy")
def test_shape_mask(node, fetch) -> None:  # noqa: ANN001
    mask = expect(node, "test_mask")
    img = _ok_image(node, fetch(f"/webgateway/render_shape_mask/{mask['id']}/?color=00FF00"), "render_shape_mask",
                    "image/png")
    assert img.size == (mask["width"], mask["height"]), f"{node.name}: mask is {img.size}"
    colours = {c for _, c in img.convert("RGBA").getcolors(4096) or []}
    assert (0, 255, 0, 255) in colours, f"{node.name}: mask has no pixel in the requested colour: {sorted(colours)[:4]}"

