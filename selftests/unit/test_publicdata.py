"""The release gate's comparison: what is ignored, how differences are
named (bounded), and pixels compared decoded, not as bytes."""

from __future__ import annotations

import io

from PIL import Image

from deploycheck.facts.publicdata import MAX_DIFFERENCES, comparable, differences, pixel_difference, render_query


def test_site_links_are_ignored_everything_else_counts() -> None:
    a = {"@id": 1, "Name": "x", "url:datasets": "http://a/api/v0/m/projects/1/datasets/",
         "omero:details": {"owner": {"UserName": "root"}}}
    b = a | {"url:datasets": "http://b/api/v0/m/projects/1/datasets/"}
    assert differences(comparable(a), comparable(b)) == []
    renamed = comparable(b | {"Name": "y", "omero:childCount": 2})
    assert differences(comparable(a), renamed) == ["Name: 'y' (baseline 'x')", "omero:childCount added (2)"]
    owner = comparable(b | {"omero:details": {"owner": {"UserName": "other"}}})
    assert differences(comparable(a), owner) == ["omero:details.owner.UserName: 'other' (baseline 'root')"]


def test_lists_compare_by_position_and_the_report_is_bounded() -> None:
    base = {"channels": [{"color": "FF0000"}, {"color": "00FF00"}]}
    assert differences(base, {"channels": [{"color": "FF0000"}, {"color": "FF00FF"}]}) == \
        ["channels.1.color: 'FF00FF' (baseline '00FF00')"]
    assert differences(base, {"channels": [{"color": "FF0000"}]})[0].startswith("channels: [")
    many = differences({str(i): i for i in range(100)}, {str(i): -i for i in range(1, 101)})
    assert len(many) == MAX_DIFFERENCES


def test_pixels_are_compared_decoded() -> None:
    img = Image.new("RGB", (8, 8), (10, 20, 30))
    png, jpeg = io.BytesIO(), io.BytesIO()
    img.save(png, "PNG")
    img.save(jpeg, "JPEG", quality=95)
    same = Image.open(io.BytesIO(png.getvalue()))
    assert pixel_difference(img, same) == (0, 0.0)
    top, mean = pixel_difference(img, Image.open(io.BytesIO(jpeg.getvalue())))
    assert top <= 4 and mean <= 2  # another encoding of the same picture: near, not byte-equal
    other = img.copy()
    other.putpixel((0, 0), (200, 20, 30))
    assert pixel_difference(img, other)[0] == 190


def test_render_query_from_imgdata() -> None:
    settings = {"channels": [{"active": True, "window": {"start": 0.0, "end": 4095.0}, "color": "FF0000"},
                             {"active": False, "window": {"start": 5.5, "end": 100.0}, "color": "00FF00"}],
                "rdefs": {"model": "greyscale"}}
    assert render_query(settings, "0,0,8,8") == "?c=1|0:4095$FF0000,-2|5.5:100$00FF00&m=g&region=0,0,8,8&format=png"
    assert render_query(None, "0,0,8,8") is None
