"""Render endpoints served by the image-region microservice (seed 003)."""

from __future__ import annotations

import pytest

from deploycheck.control import control
from deploycheck.facts.images import decode
from deploycheck.inventory.variables import expect


@control("MSIR-RENDER-01", "render_image_region returns a JPEG of exactly the requested region", "high",
         "seed 003: Redirecting OMERO.web to the Server")
@pytest.mark.hosts("proxy")
def test_render_region_size(node, proxy_client, public_cookies) -> None:  # noqa: ANN001
    image = expect(node, "test_image")
    w, h = min(100, image["size_x"]), min(60, image["size_y"])
    path = (f"/webgateway/render_image_region/{image['id']}/0/0/?c=1|0:4095$FF0000&m=c"
            f"&region=0,0,{w},{h}&dc={proxy_client.unique()}")
    response = proxy_client.get(path, cookies=public_cookies).response
    assert response.status_code == 200, f"{node.name}: {path} answered {response.status_code}; expected 200"
    img = decode(response.content, response.headers.get("Content-Type", ""))
    assert img.format == "JPEG" and img.size == (w, h), \
        f"{node.name}: got {img.format} {img.size[0]}x{img.size[1]}; expected JPEG {w}x{h}"
