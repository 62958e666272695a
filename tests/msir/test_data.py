"""OMERO.web webgateway imgData and seed 003 (histogram_json), served through
the public proxy: the image's description carries its real sizes and the
histogram one count per requested bin over every pixel."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control
from deploycheck.inventory.variables import expect

if TYPE_CHECKING:
    from deploycheck.facts.proxy import Proxy
    from deploycheck.inventory.loader import Node

pytestmark = pytest.mark.hosts("proxy")
READS = ("test_image",)


@control("MSIR-DATA-01", "imgData describes the image with its real sizes", "medium",
         "OMERO.web webgateway imgData")
def test_img_data(node: Node, public_proxy: Proxy) -> None:
    """Viewers size their canvas and sliders from imgData; wrong sizes
    cut the image or ask for planes that do not exist."""
    image = expect(node, "test_image")
    r = public_proxy.get(f"/webgateway/imgData/{image['id']}/")
    assert r.status_code == 200, f"{node.name}: imgData answered {r.status_code}"
    size = r.json().get("size", {})
    got = {"size_x": size.get("width"), "size_y": size.get("height"), "size_z": size.get("z"),
           "size_c": size.get("c")}
    want = {k: image[k] for k in got if k in image}
    assert {k: got[k] for k in want} == want, f"{node.name}: imgData sizes {got}; expected {want}"


@control("MSIR-DATA-02", "histogram_json returns one count per requested bin", "low",
         "seed 003: histogram_json")
def test_histogram(node: Node, public_proxy: Proxy) -> None:
    """The viewer's contrast sliders are set from the histogram; a wrong
    one sets them wrongly."""
    image = expect(node, "test_image")
    counts = (256, 32)
    answers = public_proxy.get_all([f"/webgateway/histogram_json/{image['id']}/channel/0/?theZ=0&theT=0&bins={bins}"
                                    for bins in counts])
    for bins, r in zip(counts, answers, strict=True):
        assert r.status_code == 200, f"{node.name}: histogram_json answered {r.status_code}"
        data = r.json().get("data", [])
        total = image["size_x"] * image["size_y"]
        assert len(data) == bins, f"{node.name}: {len(data)} bins; expected {bins}"
        assert sum(data) == total, f"{node.name}: histogram counts {sum(data)} pixels; expected {total}"
