"""What idr-proxy exposes (seed 000: only SSH, HTTP, HTTPS, rsync and the
OMERO ports are reachable; 9000 and 8009 are used through SSH tunnels)."""

from __future__ import annotations

import pytest

from deploycheck.control import control
from deploycheck.facts.listeners import listening_tcp
from deploycheck.inventory.variables import expect


@control("IDR-PROXY-01", "The proxy listens publicly only on the allowed ports", "critical",
         "seed 000: IDR administration (external ports)")
@pytest.mark.hosts("proxy")
def test_public_listeners_are_allowed(node, host) -> None:  # noqa: ANN001
    allowed = set(expect(node, "allowed_public_ports"))
    public = {sock.port for sock in listening_tcp(node) if not sock.loopback}
    extra = sorted(public - allowed)
    assert not extra, f"{node.name}: ports {extra} listen on a non-loopback address; allowed {sorted(allowed)}"


@control("IDR-PROXY-02", "The cache-buster and long-query ports listen on loopback only", "critical",
         "seed 000: idr-proxy (cache-buster port 9000, port 8009)")
@pytest.mark.hosts("proxy")
def test_internal_ports_loopback_only(node, host) -> None:  # noqa: ANN001
    """A public cache-buster lets anyone force expensive refetches."""
    ports = [p for p in expect(node, "loopback_only_ports") if p]
    listeners = listening_tcp(node)
    exposed = sorted({f"{s.address}:{s.port}" for s in listeners if s.port in ports and not s.loopback})
    absent = sorted(p for p in ports if not any(s.port == p for s in listeners))
    assert not exposed, f"{node.name}: {', '.join(exposed)} listen beyond loopback; expected 127.0.0.1 only"
    assert not absent, f"{node.name}: ports {absent} do not listen at all; expected them on loopback"
