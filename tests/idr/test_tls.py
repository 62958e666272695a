"""Seed 000, external ports (HTTPS on idr-proxy): the public site's
certificate is valid for its name and not about to expire, and old TLS
versions are refused."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control

from ..tls_checks import assert_certificate_valid, assert_old_protocols_refused

if TYPE_CHECKING:
    from deploycheck.inventory.loader import Node

pytestmark = pytest.mark.hosts("proxy")
READS = ()

REF = "seed 000: external ports (HTTPS on idr-proxy)"


@control("IDR-TLS-01", "The certificate is valid for the public name and not about to expire", "critical", REF)
def test_certificate(node: Node) -> None:
    """Browsers and scripts refuse the site outright once its certificate
    does not verify or has expired."""
    assert_certificate_valid(node)


@control("IDR-TLS-02", "TLS 1.0 and 1.1 handshakes are refused", "high", REF)
def test_old_protocols_refused(node: Node) -> None:
    """TLS 1.0 and 1.1 have known attacks and are deprecated (RFC 8996)."""
    assert_old_protocols_refused(node)
