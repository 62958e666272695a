"""What every render answer must be before its picture is judged."""

from __future__ import annotations

from typing import TYPE_CHECKING

from deploycheck.facts.images import decode

if TYPE_CHECKING:
    import requests
    from PIL import Image

    from deploycheck.inventory.loader import Node


def ok_image(node: Node, response: requests.Response, what: str, content_type: str = "image/jpeg") -> Image.Image:
    """The decoded image of a 200 answer of ``content_type``."""
    assert response.status_code == 200, f"{node.name}: {what} answered {response.status_code}; expected 200"
    got = response.headers.get("Content-Type", "").split(";")[0]
    assert got == content_type, f"{node.name}: {what} is {got or 'untyped'}; expected {content_type}"
    return decode(response.content, got)
