"""TCP reachability as seen from a vantage host (e.g. outside the private network)."""

from __future__ import annotations

import ipaddress
import shlex
from urllib.parse import urlsplit

from deploycheck.facts import hostfacts
from deploycheck.inventory.loader import Node
from deploycheck.inventory.variables import expect
from deploycheck.transport.remote import run_many

PROBE_TIMEOUT_S = 2


# without nc nothing answers and every port would look closed: fail instead of passing unchecked
_NEEDS_NC = "command -v nc >/dev/null || { echo 'nc not found' >&2; exit 127; }; "


def _resolve(address: str, var: str) -> str:
    """The address's IPs into ``$var``, looked up once (getent), in the
    resolver's order; a name that does not resolve leaves it empty. Without
    getent (or awk to read it), nc looks the name up itself. One lookup a target, not one a
    port: a burst of lookups at once makes some resolvers drop replies, and
    each dropped one costs the resolver's 5 s retry."""
    quoted = shlex.quote(address)
    return (f"if command -v getent >/dev/null && command -v awk >/dev/null; then "
            f"{var}=$(getent ahosts -- {quoted} 2>/dev/null | "
            f"awk '!seen[$1]++ {{print $1}}'); else {var}={quoted}; fi; ")


def _probe(var: str, ports: list[int]) -> str:
    """Every port at the same time, each tried on the addresses in turn (as nc does with a name)."""
    plist = " ".join(str(int(p)) for p in ports)
    return (f"for p in {plist}; do (for x in ${var}; do nc -z -w {PROBE_TIMEOUT_S} -- \"$x\" $p >/dev/null 2>&1 "
            f"&& echo $p && exit 0; done) & done; wait")


def ports_command(address: str, ports: list[int]) -> str:
    """Every port probed at the same time: behind a firewall that drops
    packets each closed port costs the whole timeout, once, not once a port."""
    return _NEEDS_NC + _resolve(address, "t") + _probe("t", ports) + "; true"


def reachable_ports(vantage: Node, address: str, ports: list[int]) -> list[int]:
    """Ports of ``address`` that accept a TCP connection from ``vantage`` (one command)."""
    if not ports:
        return []
    return sorted(int(p) for p in hostfacts.output(vantage, ports_command(address, ports)).split())


def ask_ahead(vantage: Node, targets: list[tuple[str, list[int]]]) -> None:
    """Every target's probe in one command: the names looked up one after
    the other, then every port of every target at once (a dropping firewall
    is waited for once), each answer kept as the answer of that target's own
    command for the controls to read."""
    unique = [(a, ports) for a, ports in dict.fromkeys((a, tuple(ps)) for a, ps in targets) if ports]
    if not unique:
        return
    # each target's line "i done" proves its probe ran to the end; a target without it is not stored
    combined = (_NEEDS_NC + "".join(_resolve(a, f"t{i}") for i, (a, _) in enumerate(unique))
                + " ".join(f"( {_probe(f't{i}', list(ports))}; echo done ) | sed 's/^/{i} /' &"
                           for i, (_, ports) in enumerate(unique)) + " wait; true")
    rc, out, _ = run_many(vantage, [combined])[0]
    if rc != 0:
        return  # each control asks its own probe and reports what fails
    found: dict[int, list[str]] = {i: [] for i in range(len(unique))}
    finished: set[int] = set()
    for line in out.splitlines():
        index, _, word = line.partition(" ")
        if not index.isdigit() or int(index) not in found:
            continue
        if word.strip() == "done":
            finished.add(int(index))
        elif word.strip().isdigit():
            found[int(index)].append(word.strip())
    hostfacts.store(vantage, {ports_command(a, list(ports)): (0, "".join(f"{p}\n" for p in found[i]), "")
                              for i, (a, ports) in enumerate(unique) if i in finished})


def _loopback(name: str) -> bool:
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def public_address(node: Node) -> str:
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
