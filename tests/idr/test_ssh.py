"""Seed 000, IDR administration: all administrative operations go through SSH
into idr-proxy, which accepts keys only."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control
from deploycheck.facts import hostfacts

if TYPE_CHECKING:
    from deploycheck.inventory.loader import Host

pytestmark = pytest.mark.hosts("proxy")
READS = ()
# connections sshd's Match blocks are resolved for (sshd -T -C): an outside address (TEST-NET-3)
CONNECTIONS = ("user=root,host=outside.invalid,addr=203.0.113.7",
               "user=deploycheck-probe,host=outside.invalid,addr=203.0.113.7")


@control("IDR-SSH-01", "SSH on the proxy accepts keys only, no passwords", "high",
         "seed 000: all administrative operations go through SSH into idr-proxy")
def test_ssh_keys_only(node: Host) -> None:
    """SSH on the proxy is the door to every internal server and port; a
    password login there can be guessed from anywhere. Match blocks count:
    the settings are read as sshd resolves them for connections from an
    outside address, as root and as an ordinary user."""
    bad = {}
    for who in ("", *CONNECTIONS):  # the global settings, then as Match blocks resolve them for a connection
        option = f" -C {who}" if who else ""
        settings = dict(line.split(" ", 1) for line in
                        hostfacts.output(node, f"sshd -T{option} 2>/dev/null").splitlines() if " " in line)
        assert settings, f"{node.name}: sshd -T{option} printed nothing; cannot read sshd's settings"
        label = f" ({who})" if who else ""
        bad |= {f"{k}{label}": settings.get(k) for k in ("passwordauthentication", "permitemptypasswords")
                if settings.get(k) != "no"}
        if settings.get("permitrootlogin") not in ("no", "prohibit-password", "without-password"):
            bad[f"permitrootlogin{label}"] = settings.get("permitrootlogin")
    assert not bad, f"{node.name}: sshd allows passwords: {bad}"
