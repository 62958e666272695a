"""Seen from outside (seed 000): only the proxy's public ports answer; the
backends and the proxy's internal ports are reached through SSH only."""

from __future__ import annotations

import pytest

from deploycheck.control import control
from deploycheck.facts.probe import reachable_ports
from deploycheck.inventory.variables import expect
from deploycheck.transport.remote import reachability

REF = "seed 000: IDR administration (only accessible external ports on idr-proxy)"


def _closed_from_outside(node, outside, ports: list[int]) -> None:  # noqa: ANN001
    if not ports:
        pytest.skip(f"{node.name}: inventory lists no private_ports")
    for probe in (node, outside):  # closed ports of a host that is not there prove nothing
        cause = reachability(probe)
        if cause:
            pytest.fail(cause, pytrace=False)
    address = expect(node, "outside_address") or node.address
    open_ports = reachable_ports(outside, address, ports)
    assert not open_ports, (f"{node.name}: ports {open_ports} reachable from outside ({outside.name} -> {address}); "
                            "expected none")


@control("IDR-EXPO-01", "No port of the database server is reachable from outside", "critical", REF)
@pytest.mark.hosts("database")
def test_database_closed_from_outside(node, outside) -> None:  # noqa: ANN001
    _closed_from_outside(node, outside, expect(node, "private_ports"))


@control("IDR-EXPO-02", "No port of a read-only OMERO server is reachable from outside", "critical", REF)
@pytest.mark.hosts("omeroreadonly")
def test_readonly_closed_from_outside(node, outside) -> None:  # noqa: ANN001
    _closed_from_outside(node, outside, expect(node, "private_ports"))


@control("IDR-EXPO-03", "No port of the read-write OMERO server is reachable from outside", "critical", REF)
@pytest.mark.hosts("omeroreadwrite")
def test_readwrite_closed_from_outside(node, outside) -> None:  # noqa: ANN001
    _closed_from_outside(node, outside, expect(node, "private_ports"))


@control("IDR-EXPO-04", "The proxy's cache-buster and long-query ports are not reachable from outside",
         "critical", "seed 000: idr-proxy (ssh idr-proxy -L 9000:localhost:9000)")
@pytest.mark.hosts("proxy")
def test_proxy_internal_ports_closed_from_outside(node, outside) -> None:  # noqa: ANN001
    _closed_from_outside(node, outside, expect(node, "private_ports"))


@control("IDR-EXPO-05", "The proxy's public web ports answer from outside", "critical",
         "seed 000: Production IDR (Nginx web proxy running on idr-proxy)")
@pytest.mark.hosts("proxy")
def test_proxy_web_ports_open_from_outside(node, outside) -> None:  # noqa: ANN001
    cause = reachability(outside)
    if cause:
        pytest.fail(cause, pytrace=False)
    wanted = [p for p in expect(node, "allowed_public_ports") if p in (80, 443)]
    address = expect(node, "outside_address") or node.address
    open_ports = reachable_ports(outside, address, wanted)
    missing = sorted(set(wanted) - set(open_ports))
    assert not missing, f"{node.name}: ports {missing} do not answer from outside ({address}); expected {wanted}"
