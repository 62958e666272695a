"""What the image-region microservice itself records of the renders it
served. Its ``/metrics`` has no request counters; what it has is the
tracing summary of omero-ms-core (``spanDuration``, labels ``spanName`` and
``error``), whose root span of each request is named after the route
template, e.g. ``GET /webgateway/render_image_region/:imageId/:theZ/:theT*``."""

from __future__ import annotations

import re
from collections.abc import Iterator

from deploycheck.inventory.loader import Node
from deploycheck.transport import hostcurl

RENDER_REGION_SPAN = "GET /webgateway/render_image_region/:imageId/:theZ/:theT*"
_SAMPLE = re.compile(r"^(?P<name>[A-Za-z_:][\w:]*)(?:\{(?P<labels>[^}]*)\})?\s+(?P<value>\S+)")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def samples(text: str, name: str) -> Iterator[tuple[dict[str, str], float]]:
    """The samples of series ``name`` in Prometheus text format, labels in any order."""
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match is None or match["name"] != name:
            continue
        try:
            value = float(match["value"])
        except ValueError:
            continue
        yield dict(_LABEL.findall(match["labels"] or "")), value


def served_renders(text: str, metric: str, span: str = RENDER_REGION_SPAN) -> float | None:
    """Successful requests counted for the route span ``span`` (0 before the
    first); None when the summary is absent (tracing off: it cannot be read)."""
    if not re.search(rf"^# TYPE {re.escape(metric)} summary$", text, re.MULTILINE):
        return None
    return sum(v for labels, v in samples(text, f"{metric}_count")
               if labels.get("spanName") == span and labels.get("error", "") == "")


def read_metrics(node: Node, port: int) -> str:
    """The microservice's ``/metrics``, read on its own host."""
    r = hostcurl.loopback(node, port, "/metrics", timeout=10)
    if r.status != 200:
        raise RuntimeError(f"{node.name}: GET http://127.0.0.1:{port}/metrics answered {r.status}")
    return r.text
