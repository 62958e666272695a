"""Seed 000, IDR administration (only accessible external ports on idr-proxy;
ssh idr-proxy -L 9000:localhost:9000) and Production IDR (Nginx web proxy
running on idr-proxy): seen from outside, only the proxy's public web ports
answer; the database, the OMERO servers and the proxy's internal ports are
reached through SSH only."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control
from deploycheck.facts import exposure
from deploycheck.facts.question import ask
from deploycheck.transport.remote import reachability

if TYPE_CHECKING:
    from deploycheck.inventory.loader import Node

pytestmark = pytest.mark.hosts("proxy")
READS = ()  # private_ports, allowed_public_ports, outside_address and public_url, through facts.exposure

REF = "seed 000: IDR administration (only accessible external ports on idr-proxy)"


def _assert_closed_from_outside(node: Node, outside: Node) -> None:
    address, ports = exposure.private(node)
    if not ports:
        pytest.skip(f"{node.name}: inventory lists no private_ports")
    for probe in (node, outside):  # closed ports of a host that is not there prove nothing
        cause = reachability(probe)
        if cause:
            pytest.fail(cause, pytrace=False)
    open_ports = ask(exposure.closed_ports, node)
    assert not open_ports, (f"{node.name}: ports {open_ports} reachable from outside ({outside.name} -> {address}); "
                            "expected none")


@control("IDR-EXPO-01", "No port of the database server is reachable from outside", "critical", REF,
         reads=(exposure.closed_ports,))
@pytest.mark.hosts("database")
def test_database_closed_from_outside(node: Node, outside: Node) -> None:
    """An open PostgreSQL port invites password guessing against every
    OMERO account's data."""
    _assert_closed_from_outside(node, outside)


@control("IDR-EXPO-02", "No port of a read-only OMERO server is reachable from outside", "critical", REF,
         reads=(exposure.closed_ports,))
@pytest.mark.hosts("omeroreadonly")
def test_readonly_closed_from_outside(node: Node, outside: Node) -> None:
    """Reached directly, a read-only server bypasses the proxy's cache, its
    login block and its access log."""
    _assert_closed_from_outside(node, outside)


@control("IDR-EXPO-03", "No port of the read-write OMERO server is reachable from outside", "critical", REF,
         reads=(exposure.closed_ports,))
@pytest.mark.hosts("omeroreadwrite")
def test_readwrite_closed_from_outside(node: Node, outside: Node) -> None:
    """The read-write server accepts logins that can change data; only
    curators reach it, through SSH."""
    _assert_closed_from_outside(node, outside)


@control("IDR-EXPO-04", "The proxy's cache-buster and long-query ports are not reachable from outside",
         "critical", "seed 000: idr-proxy (ssh idr-proxy -L 9000:localhost:9000)", reads=(exposure.closed_ports,))
def test_proxy_internal_ports_closed_from_outside(node: Node, outside: Node) -> None:
    """Anyone reaching port 9000 or 8009 could force expensive refetches or
    run queries past the statement timeout."""
    _assert_closed_from_outside(node, outside)


@control("IDR-EXPO-05", "The proxy's public web ports answer from outside", "critical",
         "seed 000: Production IDR (Nginx web proxy running on idr-proxy)", reads=(exposure.web_ports,))
def test_proxy_web_ports_open_from_outside(node: Node, outside: Node) -> None:
    """Closing the private ports proves little if the public site is not
    reachable from the same vantage point either."""
    cause = reachability(outside)
    if cause:
        pytest.fail(cause, pytrace=False)
    address, wanted = exposure.public(node)
    open_ports = ask(exposure.web_ports, node) or []
    missing = sorted(set(wanted) - set(open_ports))
    assert not missing, f"{node.name}: ports {missing} do not answer from outside ({address}); expected {wanted}"
