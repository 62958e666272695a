"""An image's rendering settings as a viewer reads them (webgateway imgData),
to send renders as real clients do: every channel in ``c`` with its window
and colour (``[-]idx|start:end$RRGGBB``), which omero-ms-image-region
requires since 0.8 (a bare ``c=1`` is refused with 400)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import requests

from deploycheck.facts.proxy import SITE_GETS, Proxy, Request, responses, via
from deploycheck.facts.question import Question
from deploycheck.inventory.loader import Node
from deploycheck.inventory.variables import expect
from deploycheck.report.redact import remember


@dataclass(frozen=True)
class Rendering:
    image_id: int
    windows: tuple[tuple[float, float, str], ...]  # per channel: start, end, colour
    tile_size: tuple[int, int] | None
    scaling: tuple[float, ...]  # per resolution level, 1.0 first

    def c(self, *numbers: int, colours: dict[int, str] | None = None) -> str:
        """The ``c`` value for the given 1-based channels (default: all; a
        negative number sends the channel inactive); numbers past the image
        reuse the first channel's window."""
        chosen = numbers or tuple(range(1, len(self.windows) + 1))
        parts = []
        for number in chosen:
            start, end, colour = self.windows[abs(number) - 1] if abs(number) <= len(self.windows) else \
                self.windows[0]
            colour = (colours or {}).get(abs(number), colour)
            parts.append(f"{number}|{start:.10g}:{end:.10g}${colour}")
        return ",".join(parts)

    def query(self, *numbers: int, model: str = "c", colours: dict[int, str] | None = None, **params: str) -> str:
        """``?c=..&m=..`` and further parameters, as a viewer sends a render."""
        extra = "".join(f"&{k}={v}" for k, v in params.items())
        return f"?c={self.c(*numbers, colours=colours)}&m={model}{extra}"


def read_rendering(proxy: Proxy, image_id: int) -> Rendering:
    """The image's imgData through the public proxy, as the viewer loads it first."""
    return rendering_of(proxy.node, image_id, proxy.send(f"/webgateway/imgData/{image_id}/").response)


def rendering_of(node: Node, image_id: int, r: requests.Response) -> Rendering:
    """The settings in an imgData answer; a control reading them fails when there are none."""
    if r.status_code != 200:
        pytest.fail(f"{node.name}: imgData of image {image_id} answered {r.status_code}; "
                    "cannot send renders as a viewer does", pytrace=False)
    data = r.json()
    windows = tuple((float(ch["window"]["start"]), float(ch["window"]["end"]), str(ch["color"]))
                    for ch in data.get("channels", []))
    if not windows:
        pytest.fail(f"{node.name}: imgData of image {image_id} lists no channels", pytrace=False)
    tile = data.get("tile_size")
    scaling = data.get("zoomLevelScaling") or {"0": 1.0}
    levels = tuple(float(scaling[k]) for k in sorted(scaling, key=int))
    return Rendering(image_id, windows, (int(tile["width"]), int(tile["height"])) if tile else None,
                     tuple(sorted(levels, reverse=True)))


def _visitor(node: Node) -> list[Request]:
    return [Request(expect(via(node), "public_entry_path"), None, fresh=False)]


def _cookies(node: Node, raw: list) -> dict[str, str]:
    proxy_node = via(node)
    name = expect(proxy_node, "session_cookie_name")
    sent = responses(node, raw)[0]
    value = sent.cookies.get(name)
    remember(value)
    if not value:
        pytest.fail(f"{proxy_node.name}: anonymous visit of {expect(proxy_node, 'public_entry_path')} "
                    f"gave status {sent.status_code} and no '{name}' cookie (public user disabled?)")
    return {name: value}


public_cookies = Question("public_cookies", _visitor, SITE_GETS, _cookies)
"""The cookie an anonymous visitor gets from the public user's auto-login
(an uncached page passes OMERO.web's Set-Cookie through)."""


def _image(node: Node) -> int:
    return int(expect(via(node), "test_image")["id"])


test_rendering = Question(
    "test_rendering", lambda node, cookies: [Request(f"/webgateway/imgData/{_image(node)}/", cookies, fresh=False)],
    SITE_GETS, lambda node, raw: rendering_of(via(node), _image(node), responses(node, raw)[0]), after=public_cookies)
"""The inventory's test_image as a viewer sees it, to send full renders."""
