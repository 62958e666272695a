"""Seed 000, New releases: a new IDR is provisioned beside production from
clones of its volumes, checked, and only then takes over the floating IP.
The conformance controls say the new system is configured right; these say
it serves what production serves. Both sites are read as an anonymous
visitor does, never logged in, on a bounded sample: the first
``release_sample`` projects, datasets, screens, plates and images the
baseline lists (ids chosen there), each asked of both sites.

What may differ and is ignored: the ``url:`` links of the JSON api (each
site's own address in them). Thumbnails are JPEG, so their decoded pixels
may differ by encoder rounding (accepted: same size, mean difference at
most 1 grey level, largest 32); renders are asked as PNG and must be
pixel-equal."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control
from deploycheck.facts import publicdata
from deploycheck.facts.publicdata import KINDS, Site
from deploycheck.inventory.variables import expect
from deploycheck.plugin import baseline_of

if TYPE_CHECKING:
    from PIL import Image

    from deploycheck.facts.proxy import Proxy
    from deploycheck.inventory.loader import Node

pytestmark = pytest.mark.hosts("proxy")
READS = ("release_baseline_url", "release_sample", "public_url", "public_entry_path", "http_timeout")

REF = "seed 000: New releases (provisioned from clones of production's volumes, checked before the switch)"
REGION = "0,0,64,64"
THUMB_MEAN, THUMB_MAX = 1.0, 32  # JPEG: encoder rounding only


@pytest.fixture(scope="session")
def gate(request: pytest.FixtureRequest, proxy_node: Node) -> tuple[Site, Site]:
    """(baseline, candidate): both sites' answers for the baseline's sample,
    read once per process."""
    baseline = baseline_of(request.config) or expect(proxy_node, "release_baseline_url")
    if not baseline:
        pytest.skip(f"{proxy_node.name}: no baseline to compare with; pass --baseline=URL|INVENTORY or set "
                    "release_baseline_url")
    candidate = str(expect(proxy_node, "public_url")).rstrip("/")
    if str(baseline).rstrip("/") == candidate:
        pytest.fail(f"{proxy_node.name}: the baseline is this deployment itself ({candidate}); "
                    "comparing a site with itself proves nothing", pytrace=False)
    size = expect(proxy_node, "release_sample")
    if not isinstance(size, int) or not 1 <= size <= 50:
        pytest.fail(f"{proxy_node.name}: release_sample={size!r}; give a number from 1 to 50", pytrace=False)
    timeout, entry = float(expect(proxy_node, "http_timeout")), expect(proxy_node, "public_entry_path")
    try:
        base_visitor = publicdata.Visitor(str(baseline), timeout, entry)
    except OSError as exc:  # requests' connection errors are OSErrors
        pytest.fail(f"the baseline {baseline} does not answer: {exc.__class__.__name__}", pytrace=False)
    base, cand = publicdata.sample(base_visitor, publicdata.Visitor(candidate, timeout, entry), size, REGION)
    unreadable = [f"{k}: {why}" for k, why in base.problems.items()]
    if unreadable:
        pytest.fail(f"cannot read the baseline {baseline}: " + "; ".join(unreadable), pytrace=False)
    return base, cand


def _image_problem(what: str, oid: int, a: Image.Image | None, b: Image.Image | None, base_url: str,
                   mean_max: float, top_max: int) -> str | None:
    """One image of both sites judged, decoded: None when alike within the
    bounds; the baseline's own must be readable, or nothing is compared."""
    if a is None:
        pytest.fail(f"cannot read the {what} of image {oid} on the baseline {base_url}", pytrace=False)
    if b is None:
        return f"image {oid}: no {what} here"
    if a.size != b.size:
        return f"image {oid}: {what} is {b.size[0]}x{b.size[1]} (baseline {a.size[0]}x{a.size[1]})"
    top, mean = publicdata.pixel_difference(a, b)
    if mean > mean_max or top > top_max:
        return f"image {oid}: {what} differs (mean {mean:.1f}, largest {top} levels)"
    return None


def _sampled(base: Site, kind: str) -> list[int]:
    return [oid for (k, oid), found in base.details.items() if k == kind and found is not None]


def _require(node: Node, base: Site, kinds: tuple[str, ...]) -> None:
    """Nothing sampled is nothing compared: a skip that says so, never a pass."""
    if not any(_sampled(base, kind) for kind in kinds):
        pytest.skip(f"{node.name}: the baseline {base.url} lists no {' or '.join(kinds)} to compare")


@control("IDR-GATE-01", "The new release serves the same objects as the baseline: same counts, no sampled "
         "object missing", "critical", REF)
def test_same_objects(node: Node, gate: tuple[Site, Site]) -> None:
    """An object lost in the copy or the upgrade is a broken link in every
    paper that cites it. Counts every kind; looks up each sampled id."""
    base, cand = gate
    wrong = [f"{kind}: {cand.problems[kind]}" for kind in KINDS if kind in cand.problems]
    wrong += [f"{kind}: {cand.totals.get(kind)} here, {base.totals[kind]} on the baseline" for kind in KINDS
              if kind not in cand.problems and cand.totals.get(kind) != base.totals.get(kind)]
    for kind in KINDS:
        missing = [oid for oid in _sampled(base, kind) if cand.details.get((kind, oid), {}) is None]
        unread = [oid for oid in _sampled(base, kind) if f"{kind}/{oid}" in cand.problems]
        wrong += [f"{kind} {oid} not found" for oid in missing]
        wrong += [cand.problems[f"{kind}/{oid}"] for oid in unread]
    assert not wrong, f"{node.name}: differs from the baseline {base.url}: " + "; ".join(wrong)


@control("IDR-GATE-02", "Sampled objects have the baseline's metadata and child counts", "high", REF)
def test_same_metadata(node: Node, gate: tuple[Site, Site]) -> None:
    """A renamed dataset or a study whose images lost their link shows
    visitors something other than what was published. Every field of the
    JSON api's answer counts but the site's own links."""
    base, cand = gate
    _require(node, base, KINDS)
    wrong = []
    for (kind, oid), expected in base.details.items():
        found = cand.details.get((kind, oid))
        if expected is None or found is None:
            continue  # a missing object is IDR-GATE-01's
        wrong += [f"{kind[:-1]} {oid} {d}" for d in publicdata.differences(expected, found)]
    assert not wrong, f"{node.name}: metadata differs from the baseline {base.url}: " + "; ".join(wrong[:30])


@control("IDR-GATE-03", "Sampled images keep the baseline's rendering settings and thumbnails", "high", REF)
def test_same_rendering_and_thumbnails(node: Node, gate: tuple[Site, Site]) -> None:
    """Rendering settings are what the curators chose for each image; a
    changed channel colour or window shows a different picture in every
    viewer and thumbnail grid."""
    base, cand = gate
    _require(node, base, ("images",))
    wrong = []
    for oid in _sampled(base, "images"):
        expected, found = base.rendering.get(oid), cand.rendering.get(oid)
        if expected is None:
            pytest.fail(f"cannot read imgData of image {oid} on the baseline {base.url}", pytrace=False)
        if found is None:
            wrong.append(f"image {oid}: imgData unreadable here")
        else:
            wrong += [f"image {oid} imgData {d}" for d in publicdata.differences(expected, found)]
        problem = _image_problem("thumbnail", oid, base.thumbnails.get(oid), cand.thumbnails.get(oid), base.url,
                                 THUMB_MEAN, THUMB_MAX)
        wrong += [problem] if problem else []
    assert not wrong, f"{node.name}: rendering differs from the baseline {base.url}: " + "; ".join(wrong)


@control("IDR-GATE-04", "A region of each sampled image renders pixel-equal to the baseline", "high", REF)
def test_same_pixels(node: Node, gate: tuple[Site, Site]) -> None:
    """The binary repository must have been cloned whole and be read the
    same way: a lossless render with the same settings on both sites, one
    region per image, must give the same pixels."""
    base, cand = gate
    _require(node, base, ("images",))
    wrong = []
    for oid in _sampled(base, "images"):
        problem = _image_problem(f"render of region {REGION}", oid, base.regions.get(oid), cand.regions.get(oid),
                                 base.url, 0, 0)
        wrong += [problem] if problem else []
    assert not wrong, f"{node.name}: pixels differ from the baseline {base.url}: " + "; ".join(wrong)


@control("IDR-GATE-05", "The new release caches sampled objects as production does: MISS, then HIT", "high",
         REF)
def test_caches_like_production(node: Node, gate: tuple[Site, Site], proxy: Proxy,
                                public_cookies: dict[str, str]) -> None:
    """A new release that does not cache sends every visitor to OMERO.web
    on the first busy day. One sampled object's JSON and one sampled
    image's thumbnail, each on a URL new to the cache."""
    base, _ = gate
    images, kinds = _sampled(base, "images"), [k for k in KINDS if _sampled(base, k)]
    if not kinds:
        pytest.skip(f"{node.name}: the baseline lists no object to sample")
    kind = kinds[0]
    proxy.assert_cached(f"{kind[:-1]} {_sampled(base, kind)[0]} (JSON api)",
                        f"/api/v0/m/{kind}/{_sampled(base, kind)[0]}/", public_cookies)
    if images:
        proxy.assert_cached(f"image {images[0]} thumbnail", f"/webgateway/render_thumbnail/{images[0]}/",
                            public_cookies)
