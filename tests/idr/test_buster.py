"""Seed 000, idr-proxy (cache-buster port 9000), and the IDR deployment's
cache-buster backend (idr-omeroreadwrite): a request on port 9000, reached
from the proxy host itself as an operator does through ``ssh -L``, bypasses
the cache, refetches from the read-write server and stores the fresh copy
that port 80 then serves."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control
from deploycheck.facts import hostfacts
from deploycheck.inventory.variables import expect
from deploycheck.transport import hostcurl
from deploycheck.transport.database import connect

if TYPE_CHECKING:
    from deploycheck.facts.accesslog import LogEntry
    from deploycheck.facts.proxy import Proxy
    from deploycheck.inventory.loader import Inventory, Node

    Busted = tuple[str, hostcurl.HostResponse, LogEntry]

pytestmark = pytest.mark.hosts("proxy")
READS = ("test_image", "db_user", "db_password", "cachebuster_port")

REF = "seed 000: idr-proxy (cache-buster port 9000)"


@control("IDR-BUSTER-01", "A request on the cache-buster port refetches and stores a fresh copy", "high", REF)
def test_cachebuster_refreshes(node: Node, busted: Busted, proxy: Proxy, public_cookies: dict[str, str]) -> None:
    """Operators refresh a stale cached copy through port 9000; unless it
    bypasses the cache and stores the answer, the stale copy stays."""
    path, sent, entry = busted
    assert sent.status == 200, f"{node.name}: {path} on port 9000 answered {sent.status}"
    assert entry.cache == "BYPASS", f"{node.name}: port 9000 request was {entry.cache}; expected BYPASS"
    again = proxy.send(path, public_cookies)
    assert proxy.status(again) == "HIT", \
        f"{node.name}: port 80 after the refresh was {proxy.status(again)}; expected HIT on the stored copy"


@control("IDR-BUSTER-02", "The cache-buster port fetches from the read-write server", "medium",
         "IDR deployment: cache-buster backend is idr-omeroreadwrite")
def test_cachebuster_uses_readwrite(node: Node, busted: Busted, inventory: Inventory) -> None:
    """A refresh must show what was just written, which the read-write server
    has first; the read-only servers may not have it yet."""
    _, _, entry = busted
    rw = [h.name for h in inventory.group("omeroreadwrite")]
    hosts = hostfacts.hosts_file(node)
    addresses = {line.split()[0] for line in hosts.splitlines()
                 if line.strip() and any(name in line.split()[1:] for name in rw)}
    upstream = entry.upstream.rsplit(":", 1)[0]
    assert upstream in addresses, f"{node.name}: port 9000 fetched from {entry.upstream}; expected {rw} {addresses}"


@control("IDR-BUSTER-03", "A backend change shows on port 80 after one cache-buster request, not before",
         "high", REF)
@pytest.mark.disruptive
def test_change_visible_after_refresh(node: Node, proxy: Proxy, public_cookies: dict[str, str],
                                      inventory: Inventory, request: pytest.FixtureRequest) -> None:
    """Renames the test image in the database, and renames it back whatever happens."""
    db_nodes = inventory.group("database")
    if not db_nodes:
        pytest.skip("inventory has no database host")
    db = db_nodes[0]
    image_id = expect(node, "test_image")["id"]
    path = proxy.fresh(f"/api/v0/m/images/{image_id}/")
    before = proxy.send(path, public_cookies).response.json()["data"]["Name"]
    new_name = f"{before} (deploycheck)"

    def rename(name: str) -> None:
        with connect(db, expect(db, "db_user"), expect(db, "db_password")) as conn, conn.cursor() as cur:
            cur.execute("update image set name = %s where id = %s", (name, image_id))  # autocommit

    request.addfinalizer(lambda: rename(before))
    rename(new_name)
    stale = proxy.send(path, public_cookies).response.json()["data"]["Name"]
    assert stale == before, f"{node.name}: port 80 showed the change before any refresh ({stale!r})"
    refreshed = hostcurl.loopback(node, expect(node, "cachebuster_port"), path)
    assert refreshed.status == 200, f"{node.name}: port 9000 answered {refreshed.status}"
    fresh = proxy.send(path, public_cookies).response.json()["data"]["Name"]
    assert fresh == new_name, f"{node.name}: port 80 still shows {fresh!r} after the refresh; expected {new_name!r}"
