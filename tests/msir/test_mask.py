"""Seed 003, render_shape_mask, served through the public proxy: a mask
comes back as a PNG of its own size in the requested colour."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control
from deploycheck.inventory.variables import expect

from .render_checks import ok_image

if TYPE_CHECKING:
    from deploycheck.facts.proxy import Proxy
    from deploycheck.inventory.loader import Node

pytestmark = pytest.mark.hosts("proxy")
READS = ("test_mask",)


@control("MSIR-MASK-01", "render_shape_mask returns the mask as a PNG of its size", "medium",
         "seed 003: render_shape_mask")
def test_shape_mask(node: Node, public_proxy: Proxy) -> None:
    """Segmentations are shown as masks over the image; a mask of another
    size or colour does not line up with what it outlines."""
    mask = expect(node, "test_mask")
    img = ok_image(node, public_proxy.get(f"/webgateway/render_shape_mask/{mask['id']}/?color=00FF00"),
                   "render_shape_mask", "image/png")
    assert img.size == (mask["width"], mask["height"]), f"{node.name}: mask is {img.size}"
    colours = {c for _, c in img.convert("RGBA").getcolors(4096) or []}
    assert (0, 255, 0, 255) in colours, f"{node.name}: mask has no pixel in the requested colour: {sorted(colours)[:4]}"
