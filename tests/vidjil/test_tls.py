"""Seed 004, Network usage and SSL certificates: the site's certificate is a
real one, valid for its name and not about to expire, and old TLS versions
are refused."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control
from deploycheck.facts import tls
from deploycheck.inventory.variables import expect

from ..tls_checks import assert_certificate_valid, assert_old_protocols_refused

if TYPE_CHECKING:
    from deploycheck.inventory.loader import Node

pytestmark = pytest.mark.hosts("vidjil")
READS = ("self_signed_allowed",)

REF = "seed 004: Network usage and SSL certificates"


@control("VIDJIL-TLS-01", "TLS 1.0 and 1.1 handshakes are refused", "high", REF)
def test_old_tls_refused(node: Node) -> None:
    """TLS 1.0 and 1.1 have known attacks and are deprecated (RFC 8996)."""
    assert_old_protocols_refused(node)


@control("VIDJIL-TLS-02", "The certificate is valid for the public name and not about to expire", "critical",
         REF)
def test_certificate_valid(node: Node) -> None:
    """Browsers refuse the site outright once its certificate does not
    verify or has expired."""
    assert_certificate_valid(node)


@control("VIDJIL-TLS-03", "The certificate is not a self-signed fallback", "medium", REF)
def test_not_self_signed(node: Node) -> None:
    """The shipped image carries a self-signed certificate until a real one is set."""
    if expect(node, "self_signed_allowed"):
        pytest.skip(f"{node.name}: the inventory accepts a self-signed certificate")
    assert not tls.is_self_signed(node), f"{node.name}: the site serves a self-signed certificate"
