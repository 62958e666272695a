"""Decoding rendered images and checking what a viewer would see."""

from __future__ import annotations

import io

from PIL import Image

MAGIC = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n", "image/tiff": (b"II*\x00", b"MM\x00*")}


def decode(body: bytes, content_type: str) -> Image.Image:
    """Check the magic bytes of the announced type, then decode fully."""
    magic = MAGIC.get(content_type.split(";")[0].strip())
    if magic is None:
        raise AssertionError(f"unexpected content type {content_type!r}")
    prefixes = magic if isinstance(magic, tuple) else (magic,)
    if not any(body.startswith(p) for p in prefixes):
        raise AssertionError(f"body is not {content_type} (starts with {body[:8]!r})")
    image = Image.open(io.BytesIO(body))
    image.load()
    return image
