"""Seed 000, idr-proxy (custom caching configuration; ignores any headers sent
by the back-end; never cache login state or views), and the cache key of
ome/ansible-role-nginx-proxy: the proxy caches renders, thumbnails, metadata,
the JSON api, static files and viewer pages even though OMERO.web sends
cookies, ignores jQuery's ``_=`` in its key, keeps only successful answers,
never serves OMERO.web pages from the cache and never hands a backend's
Set-Cookie to visitors. Each check reads the cache status of exactly its own
requests, on URLs new to the cache."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control
from deploycheck.inventory.variables import expect
from deploycheck.transport.http import Client

from ..proxy_checks import Proxy

if TYPE_CHECKING:
    from deploycheck.inventory.loader import Host

    from ..rendering import Rendering

pytestmark = pytest.mark.hosts("proxy")
READS = ("test_image",)

REF = "seed 000: idr-proxy (custom caching configuration)"


@pytest.fixture(scope="session")
def cache_probes(proxy_node: Host, proxy_client: Client, public_cookies: dict[str, str],
                 test_rendering: Rendering) -> None:
    """Every MISS-then-HIT probe of this file's controls, sent at the same
    time when the first of them runs (each on its own fresh URL): over a
    slow link the probes' round trips overlap instead of adding up. Each
    control then judges its own probe."""
    Proxy(proxy_node, proxy_node, proxy_client).ask_ahead(
        [(_path(proxy_node, what, test_rendering), public_cookies if cookies else None) for what, cookies in PROBES])


# the probes of the controls below: (path, sent with the public session cookie?)
PROBES = (("render", True), ("thumbnail", False), ("thumbnail", True), ("metadata", True), ("api", True),
          ("static", False), ("viewer", True), ("pages", True), ("imgdata", True), ("missing render", True))


def _path(node: Host, what: str, rendering: Rendering | None = None) -> str:
    """The one path each kind of probe asks, for the fixture and the controls alike."""
    image = expect(node, "test_image")["id"]
    if what in ("render", "missing render"):
        assert rendering is not None
        return (f"/webgateway/render_image_region/{image if what == 'render' else 987654321}/0/0/"
                + rendering.query(1, model="g", region="0,0,64,64" if what == "render" else "0,0,8,8"))
    return {
        "thumbnail": f"/webgateway/render_thumbnail/{image}/",
        "metadata": f"/webclient/metadata_details/image/{image}/",
        "api": f"/api/v0/m/images/{image}/",
        "static": "/static/webclient/css/layout.css",
        "viewer": f"/webclient/img_detail/{image}/",
        "pages": "/webclient/",
        "imgdata": f"/webgateway/imgData/{image}/",
    }[what]


@control("IDR-CACHE-01", "Renders are cached by the proxy: a repeat request is a HIT", "high", REF)
def test_render_cached(node: Host, proxy: Proxy, cache_probes: None, public_cookies: dict[str, str],
                       test_rendering: Rendering) -> None:
    """Renders come from the microservice; a Cache-Control it sends that the
    proxy honours (e.g. the shipped 'private') silently disables caching."""
    proxy.assert_cached("render (is Cache-Control: private sent?)", _path(node, "render", test_rendering),
                        public_cookies)


@control("IDR-CACHE-02", "Thumbnails for anonymous visitors are cached despite OMERO.web's cookies", "high",
         "seed 000: idr-proxy (ignores any headers sent by the back-end)")
def test_thumbnail_cached_for_anonymous(node: Host, proxy: Proxy, cache_probes: None,
                                        public_cookies: dict[str, str]) -> None:
    """Each anonymous request makes OMERO.web open a public session and send
    Set-Cookie and Vary: Cookie; the proxy must ignore both and still cache,
    for a first-time visitor and for one who sends back the public session
    cookie the site's pages gave it."""
    path = _path(node, "thumbnail")
    proxy.assert_cached("thumbnail", path)
    proxy.assert_cached("thumbnail (visitor holding the public session cookie)", path, public_cookies)


@control("IDR-CACHE-03", "Metadata panes are cached", "medium", REF)
def test_metadata_cached(node: Host, proxy: Proxy, cache_probes: None, public_cookies: dict[str, str]) -> None:
    """Every click in the tree opens a metadata pane; uncached, each one is a
    round trip to a read-only server and its database."""
    proxy.assert_cached("metadata pane", _path(node, "metadata"), public_cookies)


@control("IDR-CACHE-04", "JSON api responses are cached", "medium", REF)
def test_api_cached(node: Host, proxy: Proxy, cache_probes: None, public_cookies: dict[str, str]) -> None:
    """Viewers and scripts query the JSON api in bulk; the cache keeps that
    load off the read-only servers."""
    proxy.assert_cached("api", _path(node, "api"), public_cookies)


@control("IDR-CACHE-05", "Static files are cached", "medium", REF)
def test_static_cached(node: Host, proxy: Proxy, cache_probes: None) -> None:
    """Every page loads the same scripts and style sheets; they must not
    reach OMERO.web each time."""
    proxy.assert_cached("static file", _path(node, "static"))


@control("IDR-CACHE-06", "Image viewer pages are cached", "low", REF)
def test_viewer_cached(node: Host, proxy: Proxy, cache_probes: None, public_cookies: dict[str, str]) -> None:
    """Viewer pages of popular images are opened over and over from links."""
    proxy.assert_cached("img_detail", _path(node, "viewer"), public_cookies)


@control("IDR-CACHE-07", "The cache key ignores jQuery's _=<digits> parameter", "medium",
         "ome/ansible-role-nginx-proxy cache key (IDR)")
def test_cache_key_ignores_underscore(node: Host, proxy: Proxy, public_cookies: dict[str, str]) -> None:
    """jQuery adds a new ``_=<timestamp>`` to each ajax call; in the key, it
    would make every such request a MISS."""
    base = proxy.fresh(f"/api/v0/m/images/{expect(node, 'test_image')['id']}/")
    first = proxy.send(f"{base}&_=1700000000001", public_cookies)
    second = proxy.send(f"{base}&_=1700000000002", public_cookies)
    got = tuple(proxy.statuses(first, second))
    assert got == ("MISS", "HIT"), f"{node.name}: requests differing only in _= gave {got}; expected MISS then HIT"


@control("IDR-CACHE-08", "OMERO.web pages are never served from the cache", "high",
         "seed 000: never cache login state or views")
def test_pages_not_cached(node: Host, proxy: Proxy, cache_probes: None, public_cookies: dict[str, str]) -> None:
    """A cached page shows one visitor's login state and views to the next."""
    proxy.assert_never_hit("/webclient/", _path(node, "pages"), public_cookies)


@control("IDR-CACHE-09", "URIs outside the cache allow-list are never served from the cache", "medium", REF)
def test_outside_allow_list_not_cached(node: Host, proxy: Proxy, cache_probes: None,
                                       public_cookies: dict[str, str]) -> None:
    """Only the allow-listed URIs are safe to share between visitors; imgData
    is not on the list."""
    proxy.assert_never_hit("imgData", _path(node, "imgdata"), public_cookies)


@control("IDR-CACHE-10", "Set-Cookie from the backend never reaches clients of cached URIs", "critical",
         "seed 000: private tokens may inadvertently be cached")
def test_set_cookie_hidden(node: Host, proxy: Proxy) -> None:
    """Anonymous requests make OMERO.web set a session cookie; a cached copy
    carrying it would hand one session to every visitor. Checked on one URI
    of each cached kind (thumbnails, api, metadata panes, viewer pages), each
    of which may be served by a location of its own."""
    image = expect(node, "test_image")["id"]
    passed, failed = [], []
    kinds = (("thumbnail", f"/webgateway/render_thumbnail/{image}/"), ("api", f"/api/v0/m/images/{image}/"),
             ("metadata pane", f"/webclient/metadata_details/image/{image}/"),
             ("viewer page", f"/webclient/img_detail/{image}/"))
    for (what, path), r in zip(kinds, proxy.get_all([path for _, path in kinds]), strict=True):
        if r.status_code != 200:
            failed.append(f"{what} {path} answered {r.status_code}")
        elif "Set-Cookie" in r.headers:
            passed.append(f"{what} {path}")
    assert not failed, f"{node.name}: " + "; ".join(failed)
    assert not passed, f"{node.name}: cached URIs passed Set-Cookie to the client: " + ", ".join(passed)


@control("IDR-CACHE-11", "Only successful answers are cached: a 404 render is not", "medium",
         "ome/ansible-role-nginx-proxy (proxy_cache_valid 200)")
def test_only_200_cached(node: Host, proxy: Proxy, cache_probes: None, public_cookies: dict[str, str],
                         test_rendering: Rendering,
                         ) -> None:
    """A cached error keeps answering after the backend has recovered."""
    first, second, status = proxy.twice(_path(node, "missing render", test_rendering), public_cookies)
    assert status == 404, f"{node.name}: unknown image answered {status}; expected 404"
    assert second != "HIT", f"{node.name}: a 404 was served from the cache ({first}, {second})"
