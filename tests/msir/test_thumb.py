"""OMERO.web webgateway render_thumbnail (thumb_default_size 96) and
get_thumbnails, served through the public proxy: thumbnails are 96 pixels
on their longest side, one by one or in bulk as base64 JPEGs."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control
from deploycheck.facts.images import decode
from deploycheck.inventory.variables import expect

from .render_checks import ok_image

if TYPE_CHECKING:
    from deploycheck.facts.proxy import Proxy
    from deploycheck.inventory.loader import Node

pytestmark = pytest.mark.hosts("proxy")
READS = ("test_image",)


@control("MSIR-THUMB-01", "render_thumbnail defaults to 96 pixels on the longest side", "medium",
         "OMERO.web webgateway render_thumbnail (thumb_default_size 96)")
def test_thumbnail_default(node: Node, public_proxy: Proxy) -> None:
    """Every dataset view lays out thumbnails in a grid of that size."""
    image = expect(node, "test_image")
    img = ok_image(node, public_proxy.get(f"/webgateway/render_thumbnail/{image['id']}/"), "render_thumbnail")
    assert max(img.size) == 96, f"{node.name}: thumbnail is {img.size}; expected 96 on the longest side"


@control("MSIR-THUMB-02", "get_thumbnails returns base64 JPEGs by image id", "medium",
         "OMERO.web webgateway get_thumbnails")
def test_get_thumbnails(node: Node, public_proxy: Proxy) -> None:
    """The web client loads a dataset's thumbnails in one bulk request; an
    unknown id must not get someone else's picture."""
    image = expect(node, "test_image")
    r = public_proxy.get(f"/webgateway/get_thumbnails/?id={image['id']}&id=999999999")
    assert r.status_code == 200, f"{node.name}: get_thumbnails answered {r.status_code}"
    data = r.json()
    uri = data.get(str(image["id"])) or ""
    assert uri.startswith("data:image/jpeg;base64,"), f"{node.name}: no JPEG data URI for {image['id']}: {uri[:40]!r}"
    img = decode(base64.b64decode(uri.split(",", 1)[1]), "image/jpeg")
    assert max(img.size) == 96, f"{node.name}: thumbnail is {img.size}; expected 96 on the longest side"
    assert data.get("999999999") is None, f"{node.name}: unknown image got a thumbnail"
