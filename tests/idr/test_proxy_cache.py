"""The proxy's cache (seeds 000/001: a custom caching configuration that
ignores the headers sent by the back-end OMERO.web)."""

from __future__ import annotations

import pytest

from deploycheck.controls import control
from deploycheck.variables import expect


def _miss_then_hit(proxy_client, cache_status, path: str, cookies=None) -> tuple[str, str, int]:  # noqa: ANN001
    first = proxy_client.get(path, cookies=cookies)
    second = proxy_client.get(path, cookies=cookies)
    return cache_status(first), cache_status(second), second.response.status_code


@control("IDR-CACHE-01", "Renders are cached by the proxy: a repeat request is a HIT", "high",
         "seed 000: idr-proxy (custom caching configuration)")
@pytest.mark.hosts("proxy")
def test_render_cached(node, proxy_client, public_cookies, cache_status) -> None:  # noqa: ANN001
    """Renders come from the microservice; a Cache-Control it sends that the
    proxy honours (e.g. the shipped 'private') silently disables caching."""
    image = expect(node, "test_image")
    path = (f"/webgateway/render_image_region/{image['id']}/0/0/?c=1&m=g&region=0,0,64,64"
            f"&dc={proxy_client.unique()}")
    first, second, status = _miss_then_hit(proxy_client, cache_status, path, public_cookies)
    assert status == 200, f"{node.name}: render answered {status}; expected 200"
    assert (first, second) == ("MISS", "HIT"), (
        f"{node.name}: render cache status {first} then {second}; expected MISS then HIT "
        "(does the backend send Cache-Control: private or Set-Cookie the proxy honours?)")


@control("IDR-CACHE-02", "Thumbnails for anonymous visitors are cached despite OMERO.web's cookies", "high",
         "seed 000: idr-proxy (ignores any headers sent by the back-end)")
@pytest.mark.hosts("proxy")
def test_thumbnail_cached_for_anonymous(node, proxy_client, cache_status) -> None:  # noqa: ANN001
    """Each anonymous request makes OMERO.web open a public session and send
    Set-Cookie and Vary: Cookie; the proxy must ignore both and still cache."""
    image = expect(node, "test_image")
    path = f"/webgateway/render_thumbnail/{image['id']}/?dc={proxy_client.unique()}"
    first, second, status = _miss_then_hit(proxy_client, cache_status, path)
    assert status == 200, f"{node.name}: thumbnail answered {status}; expected 200"
    assert (first, second) == ("MISS", "HIT"), \
        f"{node.name}: thumbnail cache status {first} then {second}; expected MISS then HIT"
