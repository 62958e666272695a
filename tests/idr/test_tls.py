"""HTTPS on the public proxy (seed 000: HTTPS is one of the public ports)."""

from __future__ import annotations

import pytest

from deploycheck.control import control
from deploycheck.facts import tls

REF = "seed 000: external ports (HTTPS on idr-proxy)"


@control("IDR-TLS-01", "The certificate is valid for the public name and not about to expire", "critical", REF)
@pytest.mark.hosts("proxy")
def test_certificate(node) -> None:  # noqa: ANN001
    tls.assert_certificate_valid(node)


@control("IDR-TLS-02", "TLS 1.0 and 1.1 handshakes are refused", "high", REF)
@pytest.mark.hosts("proxy")
def test_old_protocols_refused(node) -> None:  # noqa: ANN001
    tls.assert_old_protocols_refused(node)
