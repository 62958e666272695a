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
from deploycheck.facts import cacheprobe
from deploycheck.facts.proxy import Proxy, assert_cached, assert_never_hit
from deploycheck.facts.question import ask
from deploycheck.inventory.variables import expect

if TYPE_CHECKING:
    from deploycheck.facts.rendering import Rendering
    from deploycheck.inventory.loader import Node

pytestmark = pytest.mark.hosts("proxy")
READS = ("test_image",)

REF = "seed 000: idr-proxy (custom caching configuration)"


@control("IDR-CACHE-01", "Renders are cached by the proxy: a repeat request is a HIT", "high", REF,
         reads=(cacheprobe.render,))
def test_render_cached(node: Node, proxy: Proxy, public_cookies: dict[str, str],
                       test_rendering: Rendering) -> None:
    """Renders come from the microservice; a Cache-Control it sends that the
    proxy honours (e.g. the shipped 'private') silently disables caching."""
    assert_cached(node, "render (is Cache-Control: private sent?)", ask(cacheprobe.render, node))


@control("IDR-CACHE-02", "Thumbnails for anonymous visitors are cached despite OMERO.web's cookies", "high",
         "seed 000: idr-proxy (ignores any headers sent by the back-end)",
         reads=(cacheprobe.thumbnail, cacheprobe.thumbnail_with_session))
def test_thumbnail_cached_for_anonymous(node: Node, proxy: Proxy,
                                        public_cookies: dict[str, str]) -> None:
    """Each anonymous request makes OMERO.web open a public session and send
    Set-Cookie and Vary: Cookie; the proxy must ignore both and still cache,
    for a first-time visitor and for one who sends back the public session
    cookie the site's pages gave it."""
    assert_cached(node, "thumbnail", ask(cacheprobe.thumbnail, node))
    assert_cached(node, "thumbnail (visitor holding the public session cookie)",
                  ask(cacheprobe.thumbnail_with_session, node))


@control("IDR-CACHE-03", "Metadata panes are cached", "medium", REF, reads=(cacheprobe.metadata,))
def test_metadata_cached(node: Node, proxy: Proxy, public_cookies: dict[str, str]) -> None:
    """Every click in the tree opens a metadata pane; uncached, each one is a
    round trip to a read-only server and its database."""
    assert_cached(node, "metadata pane", ask(cacheprobe.metadata, node))


@control("IDR-CACHE-04", "JSON api responses are cached", "medium", REF, reads=(cacheprobe.api,))
def test_api_cached(node: Node, proxy: Proxy, public_cookies: dict[str, str]) -> None:
    """Viewers and scripts query the JSON api in bulk; the cache keeps that
    load off the read-only servers."""
    assert_cached(node, "api", ask(cacheprobe.api, node))


@control("IDR-CACHE-05", "Static files are cached", "medium", REF, reads=(cacheprobe.static,))
def test_static_cached(node: Node, proxy: Proxy) -> None:
    """Every page loads the same scripts and style sheets; they must not
    reach OMERO.web each time."""
    assert_cached(node, "static file", ask(cacheprobe.static, node))


@control("IDR-CACHE-06", "Image viewer pages are cached", "low", REF, reads=(cacheprobe.viewer,))
def test_viewer_cached(node: Node, proxy: Proxy, public_cookies: dict[str, str]) -> None:
    """Viewer pages of popular images are opened over and over from links."""
    assert_cached(node, "img_detail", ask(cacheprobe.viewer, node))


@control("IDR-CACHE-07", "The cache key ignores jQuery's _=<digits> parameter", "medium",
         "ome/ansible-role-nginx-proxy cache key (IDR)")
def test_cache_key_ignores_underscore(node: Node, proxy: Proxy, public_cookies: dict[str, str]) -> None:
    """jQuery adds a new ``_=<timestamp>`` to each ajax call; in the key, it
    would make every such request a MISS."""
    base = proxy.fresh(f"/api/v0/m/images/{expect(node, 'test_image')['id']}/")
    first = proxy.send(f"{base}&_=1700000000001", public_cookies)
    second = proxy.send(f"{base}&_=1700000000002", public_cookies)
    got = tuple(proxy.statuses(first, second))
    assert got == ("MISS", "HIT"), f"{node.name}: requests differing only in _= gave {got}; expected MISS then HIT"


@control("IDR-CACHE-08", "OMERO.web pages are never served from the cache", "high",
         "seed 000: never cache login state or views", reads=(cacheprobe.pages,))
def test_pages_not_cached(node: Node, proxy: Proxy, public_cookies: dict[str, str]) -> None:
    """A cached page shows one visitor's login state and views to the next."""
    assert_never_hit(node, "/webclient/", ask(cacheprobe.pages, node))


@control("IDR-CACHE-09", "URIs outside the cache allow-list are never served from the cache", "medium", REF,
         reads=(cacheprobe.imgdata,))
def test_outside_allow_list_not_cached(node: Node, proxy: Proxy,
                                       public_cookies: dict[str, str]) -> None:
    """Only the allow-listed URIs are safe to share between visitors; imgData
    is not on the list."""
    assert_never_hit(node, "imgData", ask(cacheprobe.imgdata, node))


@control("IDR-CACHE-10", "Set-Cookie from the backend never reaches clients of cached URIs", "critical",
         "seed 000: private tokens may inadvertently be cached")
def test_set_cookie_hidden(node: Node, proxy: Proxy) -> None:
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
         "ome/ansible-role-nginx-proxy (proxy_cache_valid 200)", reads=(cacheprobe.missing_render,))
def test_only_200_cached(node: Node, proxy: Proxy, public_cookies: dict[str, str],
                         test_rendering: Rendering,
                         ) -> None:
    """A cached error keeps answering after the backend has recovered."""
    first, second, status = ask(cacheprobe.missing_render, node)
    assert status == 404, f"{node.name}: unknown image answered {status}; expected 404"
    assert second != "HIT", f"{node.name}: a 404 was served from the cache ({first}, {second})"
