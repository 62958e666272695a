"""TCP reachability as seen from a vantage host (e.g. outside the private network)."""

from __future__ import annotations

import ipaddress
import shlex
from urllib.parse import urlsplit

from deploycheck.facts import hostfacts
from deploycheck.inventory.loader import Host
from deploycheck.inventory.variables import expect

PROBE_TIMEOUT_S = 2


def reachable_ports(vantage: Host, address: str, ports: list[int]) -> list[int]:
    """Ports of ``address`` that accept a TCP connection from ``vantage`` (one command)."""
    if not ports:
        return []
    plist = " ".join(str(int(p)) for p in ports)
    cmd = (f"for p in {plist}; do nc -z -w {PROBE_TIMEOUT_S} {shlex.quote(address)} $p >/dev/null 2>&1 "
           f"&& echo $p; done; true")
    return [int(p) for p in hostfacts.output(vantage, cmd).split()]


def _loopback(name: str) -> bool:
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def public_address(node: Host) -> str:
    """The address the outside world uses for ``node``: a declared
    ``outside_address``; for the host serving the public site, the host of
    ``public_url`` (``ansible_host`` is often a private address only the
    controller uses); else the inventory address. A loopback public URL
    (a tunnel or a published port on the controller) says nothing of it."""
    declared = expect(node, "outside_address")
    if declared:
        return str(declared)
    public_url = expect(node, "public_url") if node.has_role("proxy") else None
    site = urlsplit(str(public_url)).hostname if public_url else None
    if site and not _loopback(site):
        return site
    return node.address
