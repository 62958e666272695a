"""The cache-buster (port 9000) and long-query (port 8009) ports, reached
from the proxy host itself as an operator does through ``ssh -L`` (seed 000)."""

from __future__ import annotations

import pytest

from deploycheck.control import control
from deploycheck.facts.accesslog import entry_for
from deploycheck.facts.hostfacts import output
from deploycheck.inventory.loader import Inventory
from deploycheck.inventory.variables import expect
from deploycheck.transport import hostcurl, remote
from deploycheck.transport.database import connect

REF = "seed 000: idr-proxy (cache-buster port 9000)"


def _inner(node, port: int, path: str, **kwargs) -> hostcurl.HostResponse:  # noqa: ANN001
    return hostcurl.get(node, f"http://127.0.0.1:{port}{path}", **kwargs)


@pytest.fixture(scope="session")
def busted(proxy_node, proxy_client, public_cookies):  # noqa: ANN001, ANN201
    """One request through the cache-buster, for the controls below to read."""
    port = expect(proxy_node, "cachebuster_port")
    if not port:
        pytest.skip(f"{proxy_node.name}: inventory sets no cachebuster_port")
    path = f"/api/v0/m/images/{expect(proxy_node, 'test_image')['id']}/?dc={proxy_client.unique()}"
    sent = _inner(proxy_node, port, path)
    entry = entry_for(remote.testinfra_host(proxy_node), expect(proxy_node, "proxy_access_log"), sent.marker)
    return path, sent, entry


@control("IDR-BUSTER-01", "A request on the cache-buster port refetches and stores a fresh copy", "high", REF)
@pytest.mark.hosts("proxy")
def test_cachebuster_refreshes(node, busted, proxy_client, public_cookies, cache_status) -> None:  # noqa: ANN001
    path, sent, entry = busted
    assert sent.status == 200, f"{node.name}: {path} on port 9000 answered {sent.status}"
    assert entry.cache == "BYPASS", f"{node.name}: port 9000 request was {entry.cache}; expected BYPASS"
    again = proxy_client.get(path, cookies=public_cookies)
    assert cache_status(again) == "HIT", \
        f"{node.name}: port 80 after the refresh was {cache_status(again)}; expected HIT on the stored copy"


@control("IDR-BUSTER-02", "The cache-buster port fetches from the read-write server", "medium",
         "IDR deployment: cache-buster backend is idr-omeroreadwrite")
@pytest.mark.hosts("proxy")
def test_cachebuster_uses_readwrite(node, busted, inventory: Inventory) -> None:  # noqa: ANN001
    _, _, entry = busted
    rw = [h.name for h in inventory.group("omeroreadwrite")]
    hosts = output(node, "cat /etc/hosts")
    addresses = {line.split()[0] for line in hosts.splitlines()
                 if line.strip() and any(name in line.split()[1:] for name in rw)}
    upstream = entry.upstream.rsplit(":", 1)[0]
    assert upstream in addresses, f"{node.name}: port 9000 fetched from {entry.upstream}; expected {rw} {addresses}"


@control("IDR-BUSTER-03", "A backend change shows on port 80 after one cache-buster request, not before",
         "high", REF)
@pytest.mark.disruptive
@pytest.mark.hosts("proxy")
def test_change_visible_after_refresh(node, proxy_client, public_cookies, inventory: Inventory,
                                      request: pytest.FixtureRequest) -> None:  # noqa: ANN001
    """Renames the test image in the database, and renames it back whatever happens."""
    db_nodes = inventory.group("database")
    if not db_nodes:
        pytest.skip("inventory has no database host")
    db = db_nodes[0]
    image_id = expect(node, "test_image")["id"]
    path = f"/api/v0/m/images/{image_id}/?dc={proxy_client.unique()}"
    before = proxy_client.get(path, cookies=public_cookies).response.json()["data"]["Name"]
    new_name = f"{before} (deploycheck)"

    def rename(name: str) -> None:
        with connect(db, expect(db, "db_user"), expect(db, "db_password")) as conn, conn.cursor() as cur:
            cur.execute("update image set name = %s where id = %s", (name, image_id))
            conn.commit()

    request.addfinalizer(lambda: rename(before))
    rename(new_name)
    stale = proxy_client.get(path, cookies=public_cookies).response.json()["data"]["Name"]
    assert stale == before, f"{node.name}: port 80 showed the change before any refresh ({stale!r})"
    refreshed = _inner(node, expect(node, "cachebuster_port"), path)
    assert refreshed.status == 200, f"{node.name}: port 9000 answered {refreshed.status}"
    fresh = proxy_client.get(path, cookies=public_cookies).response.json()["data"]["Name"]
    assert fresh == new_name, f"{node.name}: port 80 still shows {fresh!r} after the refresh; expected {new_name!r}"


@control("IDR-LONGQ-01", "A request beyond the read-only statement timeout succeeds through port 8009 and is "
         "then served from cache", "medium", "seed 000: port 8009 on idr-proxy")
@pytest.mark.hosts("proxy")
@pytest.mark.slow
def test_long_query_port(node, proxy_client, public_cookies, cache_status) -> None:  # noqa: ANN001
    port = expect(node, "longquery_port")
    if not port:
        pytest.skip(f"{node.name}: the docs describe port 8009, which this deployment does not have")
    probe = expect(node, "longquery_probe_path")
    if not probe:
        pytest.skip(f"{node.name}: set longquery_probe_path to a cacheable URL whose SQL exceeds the timeout")
    sep = "&" if "?" in probe else "?"
    path = f"{probe}{sep}dc={proxy_client.unique()}"
    direct = proxy_client.get(path, cookies=public_cookies).response
    assert direct.status_code != 200, (f"{node.name}: {probe} answered 200 on port 80; it does not exceed the "
                                       "read-only statement timeout (check the timeout or the probe)")
    long = _inner(node, port, path, timeout=120)
    assert long.status == 200, f"{node.name}: {probe} answered {long.status} on port {port}; expected 200"
    after = proxy_client.get(path, cookies=public_cookies)
    assert after.response.status_code == 200 and cache_status(after) == "HIT", (
        f"{node.name}: port 80 after port {port} answered {after.response.status_code} "
        f"({cache_status(after)}); expected 200 HIT")
