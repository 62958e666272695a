"""The proxy's cache (seeds 000/001: a custom caching configuration that
ignores the headers sent by the back-end OMERO.web). Each check reads the
cache status of exactly its own requests."""

from __future__ import annotations

import pytest

from deploycheck.control import control
from deploycheck.facts.omeroweb import backend_login
from deploycheck.inventory.variables import expect

REF = "seed 000: idr-proxy (custom caching configuration)"


def _twice(proxy_client, cache_status, path: str, cookies=None) -> tuple[str, str, int]:  # noqa: ANN001
    first = proxy_client.get(path, cookies=cookies)
    second = proxy_client.get(path, cookies=cookies)
    return cache_status(first), cache_status(second), second.response.status_code


def _assert_cached(node, proxy_client, cache_status, what: str, path: str, cookies=None) -> None:  # noqa: ANN001
    sep = "&" if "?" in path else "?"
    first, second, status = _twice(proxy_client, cache_status, f"{path}{sep}dc={proxy_client.unique()}", cookies)
    assert status == 200, f"{node.name}: {what} answered {status}; expected 200"
    assert (first, second) == ("MISS", "HIT"), (f"{node.name}: {what} cache status {first} then {second}; "
                                                "expected MISS then HIT")


def _assert_never_hit(node, proxy_client, cache_status, what: str, path: str, cookies=None) -> None:  # noqa: ANN001
    sep = "&" if "?" in path else "?"
    first, second, _ = _twice(proxy_client, cache_status, f"{path}{sep}dc={proxy_client.unique()}", cookies)
    assert "HIT" not in (first, second), f"{node.name}: {what} was served from cache ({first}, {second})"


@control("IDR-CACHE-01", "Renders are cached by the proxy: a repeat request is a HIT", "high", REF)
@pytest.mark.hosts("proxy")
def test_render_cached(node, proxy_client, public_cookies, cache_status) -> None:  # noqa: ANN001
    """Renders come from the microservice; a Cache-Control it sends that the
    proxy honours (e.g. the shipped 'private') silently disables caching."""
    image = expect(node, "test_image")
    _assert_cached(node, proxy_client, cache_status, "render (is Cache-Control: private sent?)",
                   f"/webgateway/render_image_region/{image['id']}/0/0/?c=1&m=g&region=0,0,64,64", public_cookies)


@control("IDR-CACHE-02", "Thumbnails for anonymous visitors are cached despite OMERO.web's cookies", "high",
         "seed 000: idr-proxy (ignores any headers sent by the back-end)")
@pytest.mark.hosts("proxy")
def test_thumbnail_cached_for_anonymous(node, proxy_client, cache_status) -> None:  # noqa: ANN001
    """Each anonymous request makes OMERO.web open a public session and send
    Set-Cookie and Vary: Cookie; the proxy must ignore both and still cache."""
    image = expect(node, "test_image")
    _assert_cached(node, proxy_client, cache_status, "thumbnail", f"/webgateway/render_thumbnail/{image['id']}/")


@control("IDR-CACHE-03", "Metadata panes are cached", "medium", REF)
@pytest.mark.hosts("proxy")
def test_metadata_cached(node, proxy_client, public_cookies, cache_status) -> None:  # noqa: ANN001
    image = expect(node, "test_image")
    _assert_cached(node, proxy_client, cache_status, "metadata pane",
                   f"/webclient/metadata_details/image/{image['id']}/", public_cookies)


@control("IDR-CACHE-04", "JSON api responses are cached", "medium", REF)
@pytest.mark.hosts("proxy")
def test_api_cached(node, proxy_client, public_cookies, cache_status) -> None:  # noqa: ANN001
    image = expect(node, "test_image")
    _assert_cached(node, proxy_client, cache_status, "api", f"/api/v0/m/images/{image['id']}/", public_cookies)


@control("IDR-CACHE-05", "Static files are cached", "medium", REF)
@pytest.mark.hosts("proxy")
def test_static_cached(node, proxy_client, cache_status) -> None:  # noqa: ANN001
    _assert_cached(node, proxy_client, cache_status, "static file", "/static/webclient/css/layout.css")


@control("IDR-CACHE-06", "Image viewer pages are cached", "low", REF)
@pytest.mark.hosts("proxy")
def test_viewer_cached(node, proxy_client, public_cookies, cache_status) -> None:  # noqa: ANN001
    image = expect(node, "test_image")
    _assert_cached(node, proxy_client, cache_status, "img_detail", f"/webclient/img_detail/{image['id']}/",
                   public_cookies)


@control("IDR-CACHE-07", "The cache key ignores jQuery's _=<digits> parameter", "medium",
         "ome/ansible-role-nginx-proxy cache key (IDR)")
@pytest.mark.hosts("proxy")
def test_cache_key_ignores_underscore(node, proxy_client, public_cookies, cache_status) -> None:  # noqa: ANN001
    image = expect(node, "test_image")
    base = f"/api/v0/m/images/{image['id']}/?dc={proxy_client.unique()}"
    first = proxy_client.get(f"{base}&_=1700000000001", cookies=public_cookies)
    second = proxy_client.get(f"{base}&_=1700000000002", cookies=public_cookies)
    got = (cache_status(first), cache_status(second))
    assert got == ("MISS", "HIT"), f"{node.name}: requests differing only in _= gave {got}; expected MISS then HIT"


@control("IDR-CACHE-08", "OMERO.web pages are never served from the cache", "high",
         "seed 000: never cache login state or views")
@pytest.mark.hosts("proxy")
def test_pages_not_cached(node, proxy_client, public_cookies, cache_status) -> None:  # noqa: ANN001
    _assert_never_hit(node, proxy_client, cache_status, "/webclient/", "/webclient/", public_cookies)


@control("IDR-CACHE-09", "URIs outside the cache allow-list are never served from the cache", "medium", REF)
@pytest.mark.hosts("proxy")
def test_outside_allow_list_not_cached(node, proxy_client, public_cookies, cache_status) -> None:  # noqa: ANN001
    image = expect(node, "test_image")
    _assert_never_hit(node, proxy_client, cache_status, "imgData", f"/webgateway/imgData/{image['id']}/",
                      public_cookies)


@control("IDR-CACHE-10", "Set-Cookie from the backend never reaches clients of cached URIs", "critical",
         "seed 000: private tokens may inadvertently be cached")
@pytest.mark.hosts("proxy")
def test_set_cookie_hidden(node, proxy_client) -> None:  # noqa: ANN001
    """Anonymous thumbnail requests make OMERO.web set a session cookie; a
    cached copy carrying it would hand one session to every visitor."""
    image = expect(node, "test_image")
    r = proxy_client.get(f"/webgateway/render_thumbnail/{image['id']}/?dc={proxy_client.unique()}").response
    assert r.status_code == 200, f"{node.name}: thumbnail answered {r.status_code}"
    assert "Set-Cookie" not in r.headers, f"{node.name}: cached URI passed Set-Cookie to the client"


@control("IDR-CACHE-11", "Only successful answers are cached: a 404 render is not", "medium",
         "ome/ansible-role-nginx-proxy (proxy_cache_valid 200)")
@pytest.mark.hosts("proxy")
def test_only_200_cached(node, proxy_client, public_cookies, cache_status) -> None:  # noqa: ANN001
    path = f"/webgateway/render_image_region/987654321/0/0/?c=1&m=g&region=0,0,8,8&dc={proxy_client.unique()}"
    first, second, status = _twice(proxy_client, cache_status, path, public_cookies)
    assert status == 404, f"{node.name}: unknown image answered {status}; expected 404"
    assert second != "HIT", f"{node.name}: a 404 was served from the cache ({first}, {second})"


@control("IDR-LEAK-01", "A page rendered for a logged-in user is never served to anonymous visitors", "critical",
         "seed 000: private tokens or views may inadvertently be cached")
@pytest.mark.hosts("proxy")
def test_private_page_not_leaked(node, proxy_client, inventory) -> None:  # noqa: ANN001
    """Logs in on a read-only server itself (never through the proxy), sends
    that session through the proxy, then asks for the same URL anonymously.
    Sessions live on one backend and the proxy keeps a client on one
    (ip_hash), so each read-only server is tried until the proxy shows the
    logged-in page."""
    user, password = expect(node, "private_user"), expect(node, "private_password")
    backends = inventory.group("omeroreadonly")
    if not user or not backends:
        pytest.skip(f"{node.name}: set private_user/private_password and list read-only servers")
    cookie = expect(node, "session_cookie_name")
    seen, shown = [], False
    for backend in backends:
        session_id = backend_login(backend, user, password, cookie)
        assert session_id, f"{backend.name}: login of {user} on the host's own OMERO.web failed"
        path = f"/webclient/?dc={proxy_client.unique()}"
        private = proxy_client.get(path, cookies={cookie: session_id}).response
        seen.append(f"{backend.name}: {private.status_code}")
        shown = private.status_code == 200 and user in private.text
        if shown:
            break
    assert shown, f"{node.name}: no logged-in page named {user} through the proxy ({', '.join(seen)}); " \
                  "cannot judge a leak"
    anonymous = proxy_client.get(path).response
    assert user not in anonymous.text, f"{node.name}: an anonymous visitor got {user}'s page from the cache"


@control("IDR-CORS-01", "Proxied responses allow any origin (Access-Control-Allow-Origin: *)", "low",
         "ome/ansible-role-nginx-proxy (IDR)")
@pytest.mark.hosts("proxy")
def test_cors(node, proxy_client, public_cookies) -> None:  # noqa: ANN001
    image = expect(node, "test_image")
    r = proxy_client.get(f"/webgateway/render_thumbnail/{image['id']}/?dc={proxy_client.unique()}",
                         headers={"Origin": "https://viewer.example.org"}).response
    assert r.headers.get("Access-Control-Allow-Origin") == "*", \
        f"{node.name}: Access-Control-Allow-Origin is {r.headers.get('Access-Control-Allow-Origin')!r}"


@control("IDR-PROM-01", "OMERO.web's Prometheus endpoint is not public", "medium",
         "ome/ansible-role-nginx-proxy (IDR blocks /django_prometheus)")
@pytest.mark.hosts("proxy")
def test_django_prometheus_blocked(node, proxy_client) -> None:  # noqa: ANN001
    r = proxy_client.get("/django_prometheus/metrics").response
    assert r.status_code == 404, f"{node.name}: /django_prometheus/metrics answered {r.status_code}; expected 404"


@control("IDR-PUBLIC-01", "Anonymous visitors get working pages from the public site", "critical",
         "seed 000: The IDR appears as a read-only resource to public users")
@pytest.mark.hosts("proxy")
def test_public_pages(node, proxy_client, public_cookies) -> None:  # noqa: ANN001
    r = proxy_client.get("/webclient/", cookies=public_cookies).response
    assert r.status_code == 200, f"{node.name}: /webclient/ answered {r.status_code} to an anonymous visitor"
    assert "Dataset" in r.text, f"{node.name}: /webclient/ lists no dataset for the public user"
