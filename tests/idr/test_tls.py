"""HTTPS on the public proxy (seed 000: HTTPS is one of the public ports)."""

from __future__ import annotations

import ssl

import pytest

from deploycheck import tls
from deploycheck.controls import control
from deploycheck.inventory import Inventory
from deploycheck.variables import expect

REF = "seed 000: external ports (HTTPS on idr-proxy)"


@control("IDR-TLS-01", "The certificate is valid for the public name and not about to expire", "critical", REF)
@pytest.mark.hosts("proxy")
def test_certificate(node, inventory: Inventory) -> None:  # noqa: ANN001
    host, port = tls.endpoint(node)
    try:
        cert = tls.peer_certificate(node)
    except ssl.SSLCertVerificationError as exc:
        raise AssertionError(f"{node.name}: certificate of {host}:{port} does not verify: {exc.verify_message}") \
            from exc
    left, margin = tls.days_left(cert), float(expect(node, "tls_min_days"))
    assert left >= margin, f"{node.name}: certificate of {host} expires in {left:.0f} days; expected >= {margin:g}"


@control("IDR-TLS-02", "TLS 1.0 and 1.1 handshakes are refused", "high", REF)
@pytest.mark.hosts("proxy")
def test_old_protocols_refused(node) -> None:  # noqa: ANN001
    accepted = [v.name for v in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1) if tls.handshake(node, v)]
    assert not accepted, f"{node.name}: the site accepts {accepted}; expected TLS 1.2 or newer only"
    assert tls.handshake(node, ssl.TLSVersion.TLSv1_2) or tls.handshake(node, ssl.TLSVersion.TLSv1_3), \
        f"{node.name}: no TLS 1.2/1.3 handshake either; is HTTPS up?"
