"""Seed 000, IDR administration: all administrative operations go through SSH
into idr-proxy, which accepts keys only."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control
from deploycheck.facts.sshd import OUTSIDE_CONNECTIONS, settings

if TYPE_CHECKING:
    from deploycheck.inventory.loader import Node

pytestmark = pytest.mark.hosts("proxy")
READS = ()


@control("IDR-SSH-01", "SSH on the proxy accepts keys only, no passwords", "high",
         "seed 000: all administrative operations go through SSH into idr-proxy", shell=True)
def test_ssh_keys_only(node: Node) -> None:
    """SSH on the proxy is the door to every internal server and port; a
    password login there can be guessed from anywhere. Match blocks count:
    the settings are read as sshd resolves them for connections from an
    outside address, as root and as an ordinary user."""
    bad: dict[str, str | None] = {}  # setting (and whose connection) -> its value, None when sshd prints none
    for who in ("", *OUTSIDE_CONNECTIONS):  # the global settings, then as Match blocks resolve them
        found = settings(node, who)
        assert found, f"{node.name}: sshd -T{f' -C {who}' if who else ''} printed nothing; cannot read sshd's settings"
        label = f" ({who})" if who else ""
        bad |= {f"{k}{label}": found.get(k) for k in ("passwordauthentication", "permitemptypasswords")
                if found.get(k) != "no"}
        if found.get("permitrootlogin") not in ("no", "prohibit-password", "without-password"):
            bad[f"permitrootlogin{label}"] = found.get("permitrootlogin")
    assert not bad, f"{node.name}: sshd allows passwords: {bad}"
