"""What a site serves anonymous visitors, sampled for comparing two
deployments: the new system provisioned beside production from clones of
its volumes (seed 000, "New releases") must serve the same objects, with
the same metadata and the same pixels, before it takes over the floating IP.

Read-only and bounded: objects come from OMERO.web's public JSON api
(``/api/v0/m/<kind>/``, at most ``sample`` of each kind, ids chosen on the
baseline), images from webgateway; every request carries a query value new
to the caches, so both sites answer from their backends. Nothing logs in:
the public user's session is what any visitor gets.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, ImageChops, ImageStat

from deploycheck.transport.http import Client
from deploycheck.transport.together import at_once

KINDS = ("projects", "datasets", "screens", "plates", "images")
WITH_CHILD_COUNT = ("projects", "datasets", "screens")  # omero-web counts links for these (childCount=true)
# what legitimately differs between two sites serving the same data: absolute links carry each site's address
IGNORED_PREFIXES = ("url:",)
IMGDATA_FIELDS = ("size", "pixel_range", "channels", "rdefs", "tile_size", "levels", "zoomLevelScaling")
MAX_DIFFERENCES = 20  # per object: enough to name the problem, bounded for a report


@dataclass
class Site:
    """One site's answers for the sampled ids: lists, details, image facts."""

    url: str
    totals: dict[str, int | None] = field(default_factory=dict)  # kind -> totalCount (None: the list failed)
    ids: dict[str, list[int]] = field(default_factory=dict)  # kind -> ids of the first page, in order
    problems: dict[str, str] = field(default_factory=dict)  # kind or kind/id -> why it could not be read
    details: dict[tuple[str, int], dict[str, Any] | None] = field(default_factory=dict)  # None: not found
    rendering: dict[int, dict[str, Any] | None] = field(default_factory=dict)  # image -> imgData's settings
    thumbnails: dict[int, Image.Image | None] = field(default_factory=dict)
    regions: dict[int, Image.Image | None] = field(default_factory=dict)


class Visitor:
    """An anonymous visitor of one site: its public session cookie, no login."""

    def __init__(self, base_url: str, timeout: float, entry_path: str) -> None:
        self.client = Client(base_url, timeout)
        first = self.client.get(entry_path)
        self.cookies = {k: v for k, v in first.response.cookies.items() if v}

    def get(self, path: str) -> Any:  # -> requests.Response
        sep = "&" if "?" in path else "?"
        return self.client.get(f"{path}{sep}dc={self.client.unique()}", cookies=self.cookies).response


def listing(visitor: Visitor, site: Site, kind: str, limit: int) -> None:
    r = visitor.get(f"/api/v0/m/{kind}/?limit={int(limit)}")
    body = _json(r)
    if r.status_code != 200 or body is None or not isinstance(body.get("data"), list):
        site.totals[kind] = None
        site.problems[kind] = f"/api/v0/m/{kind}/ answered {r.status_code}"
        return
    site.ids[kind] = [int(o["@id"]) for o in body["data"] if isinstance(o, dict) and "@id" in o]
    site.totals[kind] = int(body.get("meta", {}).get("totalCount", len(site.ids[kind])))


def detail(visitor: Visitor, site: Site, kind: str, oid: int) -> None:
    extra = "?childCount=true" if kind in WITH_CHILD_COUNT else ""
    r = visitor.get(f"/api/v0/m/{kind}/{int(oid)}/{extra}")
    body = _json(r)
    if r.status_code == 404:
        site.details[(kind, oid)] = None
    elif r.status_code != 200 or body is None or not isinstance(body.get("data"), dict):
        site.problems[f"{kind}/{oid}"] = f"/api/v0/m/{kind}/{oid}/ answered {r.status_code}"
    else:
        site.details[(kind, oid)] = comparable(body["data"])


def image_facts(visitor: Visitor, site: Site, oid: int) -> None:
    """imgData's rendering settings and the default thumbnail."""
    r = visitor.get(f"/webgateway/imgData/{int(oid)}/")
    data = _json(r)
    site.rendering[oid] = {k: data.get(k) for k in IMGDATA_FIELDS} if r.status_code == 200 and data else None
    site.thumbnails[oid] = _image(visitor.get(f"/webgateway/render_thumbnail/{int(oid)}/"))


def render_query(settings: dict[str, Any] | None, region: str) -> str | None:
    """A lossless render of ``region`` with every channel as ``settings`` (imgData) sets it."""
    if not settings or not settings.get("channels"):
        return None
    c = ",".join(f"{'' if ch.get('active') else '-'}{n}|{ch['window']['start']:.10g}:{ch['window']['end']:.10g}"
                 f"${ch['color']}" for n, ch in enumerate(settings["channels"], start=1))
    model = "g" if (settings.get("rdefs") or {}).get("model") == "greyscale" else "c"
    return f"?c={c}&m={model}&region={region}&format=png"


def region(visitor: Visitor, site: Site, oid: int, query: str | None) -> None:
    site.regions[oid] = _image(visitor.get(f"/webgateway/render_image_region/{int(oid)}/0/0/{query}")) \
        if query else None


def sample(baseline: Visitor, candidate: Visitor, size: int, area: str) -> tuple[Site, Site]:
    """The baseline's first ``size`` objects of each kind, and both sites'
    answers for exactly those ids; requests go out together, per step."""
    base, cand = Site(baseline.client.base_url), Site(candidate.client.base_url)
    pairs = [(baseline, base), (candidate, cand)]
    at_once(lambda job: listing(job[0][0], job[0][1], job[1], size), [(p, k) for p in pairs for k in KINDS])
    wanted = [(kind, oid) for kind in KINDS for oid in base.ids.get(kind, [])[:size]]
    at_once(lambda job: detail(job[0][0], job[0][1], *job[1]), [(p, w) for p in pairs for w in wanted])
    images = [oid for kind, oid in wanted if kind == "images"]
    at_once(lambda job: image_facts(job[0][0], job[0][1], job[1]), [(p, i) for p in pairs for i in images])
    # both sites render with the baseline's settings: only the pixel data can make them differ
    queries = {oid: render_query(base.rendering.get(oid), area) for oid in images}
    at_once(lambda job: region(job[0][0], job[0][1], job[1], queries[job[1]]), [(p, i) for p in pairs for i in images])
    return base, cand


def comparable(value: Any) -> Any:
    """The value without what legitimately differs between two sites (``url:`` links)."""
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items() if not k.startswith(IGNORED_PREFIXES)}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    return value


def differences(base: Any, cand: Any, where: str = "") -> list[str]:
    """Field paths where ``cand`` differs from ``base``, each with both values (bounded)."""
    found: list[str] = []
    _diff(base, cand, where, found)
    return found[:MAX_DIFFERENCES]


def _diff(base: Any, cand: Any, where: str, found: list[str]) -> None:
    if len(found) >= MAX_DIFFERENCES:
        return
    if isinstance(base, dict) and isinstance(cand, dict):
        for key in sorted(set(base) | set(cand), key=str):
            if key not in cand:
                found.append(f"{where}{key} missing (baseline {_short(base[key])})")
            elif key not in base:
                found.append(f"{where}{key} added ({_short(cand[key])})")
            else:
                _diff(base[key], cand[key], f"{where}{key}.", found)
    elif isinstance(base, list) and isinstance(cand, list) and len(base) == len(cand):
        for n, (a, b) in enumerate(zip(base, cand, strict=True)):
            _diff(a, b, f"{where}{n}.", found)
    elif base != cand:
        found.append(f"{where.rstrip('.')}: {_short(cand)} (baseline {_short(base)})")


def pixel_difference(a: Image.Image, b: Image.Image) -> tuple[int, float]:
    """Largest and mean absolute difference over every pixel and band (decoded, not bytes)."""
    a, b = a.convert("RGB"), b.convert("RGB")
    stat = ImageStat.Stat(ImageChops.difference(a, b))
    return max(hi for _, hi in stat.extrema), sum(stat.mean) / 3


def _json(response: Any) -> dict[str, Any] | None:
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _image(response: Any) -> Image.Image | None:
    if response.status_code != 200:
        return None
    try:
        img = Image.open(io.BytesIO(response.content))
        img.load()
        return img
    except OSError:
        return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
