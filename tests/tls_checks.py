"""What the TLS controls of every profile judge: the site's certificate and
the protocol versions it accepts (observed by ``deploycheck.facts.tls``)."""

from __future__ import annotations

import ssl

from deploycheck.facts import tls
from deploycheck.inventory.loader import Node
from deploycheck.inventory.variables import expect
from deploycheck.transport.together import at_once


def assert_certificate_valid(node: Node) -> None:
    """The site's certificate verifies (chain, host name) and lasts the inventory's margin."""
    host, port = tls.endpoint(node)
    try:
        cert = tls.peer_certificate(node)
    except ssl.SSLCertVerificationError as exc:
        raise AssertionError(f"{node.name}: certificate of {host}:{port} does not verify: {exc.verify_message}") \
            from exc
    left, margin = tls.days_left(cert), float(expect(node, "tls_min_days"))
    assert left >= margin, f"{node.name}: certificate of {host} expires in {left:.0f} days; expected >= {margin:g}"


def assert_old_protocols_refused(node: Node) -> None:
    """TLS 1.0 and 1.1 handshakes fail while 1.2 or 1.3 succeeds."""
    versions = (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3)
    done = dict(zip(versions, at_once(lambda v: tls.handshake(node, v), versions), strict=True))  # all at once
    accepted = [v.name for v in versions[:2] if done[v]]
    assert not accepted, f"{node.name}: the site accepts {accepted}; expected TLS 1.2 or newer only"
    assert done[ssl.TLSVersion.TLSv1_2] or done[ssl.TLSVersion.TLSv1_3], \
        f"{node.name}: no TLS 1.2/1.3 handshake either; is HTTPS up?"
