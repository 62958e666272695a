"""TLS of the public site as a client sees it: the certificate, the protocol
versions it accepts. Observes only; the controls judge."""

from __future__ import annotations

import socket
import ssl
import tempfile
import warnings
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from deploycheck.inventory.loader import Node
from deploycheck.inventory.variables import expect
from deploycheck.transport.http import Client

CONNECT_TIMEOUT = 10
_Pairs = tuple[tuple[str, str], ...]
# a certificate as ssl's getpeercert gives it: dates and serial as text, subjectAltName as (type, value) pairs,
# subject and issuer as relative names, each (attribute, value) pairs
Certificate = dict[str, str | _Pairs | tuple[_Pairs, ...]]


def ca_file(node: Node) -> str | None:
    """The inventory's CA bundle (relative paths were resolved against the inventory file)."""
    value = expect(node, "tls_ca_file")
    return str(Path(value).expanduser()) if value else None


def endpoint(node: Node) -> tuple[str, int]:
    url = urlsplit(expect(node, "public_https_url"))
    return url.hostname or "localhost", url.port or 443


def https_client(node: Node) -> Client:
    client = Client(expect(node, "public_https_url"), float(expect(node, "http_timeout")))
    client.session.verify = ca_file(node) or True
    return client


def peer_certificate(node: Node) -> Certificate:
    """The verified certificate of the site (chain and host name checked)."""
    context = ssl.create_default_context(cafile=ca_file(node))
    host, port = endpoint(node)
    with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT) as raw, \
            context.wrap_socket(raw, server_hostname=host) as tls:
        cert = tls.getpeercert()
    if cert is None:  # only without verification, which the default context never skips
        raise ssl.SSLError(f"{host}:{port} sent no certificate")
    return cert


def days_left(cert: Certificate) -> float:
    text = cert["notAfter"]
    if not isinstance(text, str):
        raise ValueError(f"certificate notAfter is not a date: {text!r}")
    not_after = datetime.fromtimestamp(ssl.cert_time_to_seconds(text), UTC)
    return (not_after - datetime.now(UTC)).total_seconds() / 86400


def handshake(node: Node, version: ssl.TLSVersion) -> str | None:
    """The negotiated protocol when the site accepts exactly ``version``, else None."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():  # offering TLS 1.0/1.1 on purpose: the server must refuse them
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = version
        context.maximum_version = version
    context.set_ciphers("ALL:@SECLEVEL=0")  # let the client offer old protocols; the server must refuse
    host, port = endpoint(node)
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT) as raw, \
                context.wrap_socket(raw, server_hostname=host) as tls:
            return tls.version()
    except (ssl.SSLError, ConnectionResetError):
        return None


def is_self_signed(node: Node) -> bool:
    """True when the served certificate verifies with itself as the only trusted CA."""
    host, port = endpoint(node)
    pem = ssl.get_server_certificate((host, port), timeout=CONNECT_TIMEOUT)
    with tempfile.NamedTemporaryFile("w", suffix=".pem") as fh:
        fh.write(pem)
        fh.flush()
        context = ssl.create_default_context(cafile=fh.name)
        context.check_hostname = False
        try:
            with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT) as raw, \
                    context.wrap_socket(raw, server_hostname=host):
                return True
        except ssl.SSLCertVerificationError:
            return False
