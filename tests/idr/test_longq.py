"""Seed 000, port 8009 on idr-proxy: a request whose SQL runs longer than the
read-only servers' statement timeout succeeds through the long-query port,
reached from the proxy host itself, and port 80 then serves it from cache."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control
from deploycheck.inventory.variables import expect
from deploycheck.transport import hostcurl

if TYPE_CHECKING:
    from deploycheck.facts.proxy import Proxy
    from deploycheck.inventory.loader import Node

pytestmark = pytest.mark.hosts("proxy")
READS = ("longquery_port", "longquery_probe_path")


@control("IDR-LONGQ-01", "A request beyond the read-only statement timeout succeeds through port 8009 and is "
         "then served from cache", "medium", "seed 000: port 8009 on idr-proxy")
@pytest.mark.slow
def test_long_query_port(node: Node, proxy: Proxy, public_cookies: dict[str, str]) -> None:
    """Some pages need more time than the statement timeout allows; an
    operator warms them through port 8009 so visitors get the cached copy."""
    port = expect(node, "longquery_port")
    if not port:
        pytest.skip(f"{node.name}: the docs describe port 8009, which this deployment does not have")
    try:
        answers = hostcurl.loopback(node, port, "/", method="HEAD", timeout=10).status > 0
    except hostcurl.NoAnswerError:
        answers = False
    assert answers, f"{node.name}: port {port} does not answer; the docs send long queries through it"
    probe = expect(node, "longquery_probe_path")
    if not probe:
        pytest.skip(f"{node.name}: set longquery_probe_path to a cacheable URL whose SQL exceeds the timeout")
    path = proxy.fresh(probe)
    direct = proxy.send(path, public_cookies).response
    assert direct.status_code != 200, (f"{node.name}: {probe} answered 200 on port 80; it does not exceed the "
                                       "read-only statement timeout (check the timeout or the probe)")
    long = hostcurl.loopback(node, port, path, timeout=120)
    assert long.status == 200, f"{node.name}: {probe} answered {long.status} on port {port}; expected 200"
    after = proxy.send(path, public_cookies)
    assert after.response.status_code == 200 and proxy.status(after) == "HIT", (
        f"{node.name}: port 80 after port {port} answered {after.response.status_code} "
        f"({proxy.status(after)}); expected 200 HIT")
