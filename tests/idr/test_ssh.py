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


@control("IDR-SSH-01", "SSH on the proxy accepts keys only, no passwords", "high",
         "seed 000: all administrative operations go through SSH into idr-proxy")
def test_ssh_keys_only(node: Host) -> None:
    """SSH on the proxy is the door to every internal server and port; a
    password login there can be guessed from anywhere."""
    settings = dict(line.split(" ", 1) for line in hostfacts.output(node, "sshd -T 2>/dev/null").splitlines()
                    if " " in line)
    bad = {k: settings.get(k) for k in ("passwordauthentication", "permitemptypasswords")
           if settings.get(k) != "no"}
    if settings.get("permitrootlogin") not in ("no", "prohibit-password", "without-password"):
        bad["permitrootlogin"] = settings.get("permitrootlogin")
    assert not bad, f"{node.name}: sshd allows passwords: {bad}"
