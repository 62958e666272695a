"""Which shells open before the first control: the controller logs in to
every host; a worker sharing its connections, which learns from it whether
a host answers, opens none: each waits for a control's first command."""

from __future__ import annotations

import pytest

from deploycheck.facts import warmup
from deploycheck.inventory.loader import Inventory, Node
from deploycheck.transport import remote


def _inventory() -> Inventory:
    ssh = {"ansible_connection": "ssh"}
    hosts = {"proxy": Node("proxy", dict(ssh), ["proxy"]), "db": Node("db", {"ansible_connection": "docker"},
                                                                       ["database"])}
    hosts |= {f"ro{i}": Node(f"ro{i}", dict(ssh), ["readonly"]) for i in range(1, 5)}
    groups = {"proxy": ["proxy"], "database": ["db"], "readonly": [f"ro{i}" for i in range(1, 5)]}
    inv = Inventory("inv.yml", hosts, groups,
                    roles={"proxy": "proxy", "database": "database", "omeroreadonly": "readonly"})
    for host in hosts.values():
        host._inventory = inv
    return inv


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str], object]]:
    calls: list[tuple[list[str], object]] = []
    monkeypatch.setattr(warmup.masters, "open_connections",
                        lambda nodes, connect, others_too=False: calls.append(([n.name for n in nodes], connect))
                        or [])
    return calls


def test_a_sharing_worker_opens_none(monkeypatch: pytest.MonkeyPatch, opened) -> None:
    monkeypatch.setattr(warmup, "sharing_control_dir", lambda: True)
    assert warmup.connect_early(_inventory().hosts.values()) == []
    assert opened == []


def test_the_controller_logs_in_to_every_host(monkeypatch: pytest.MonkeyPatch, opened) -> None:
    monkeypatch.setattr(warmup, "sharing_control_dir", lambda: False)
    warmup.connect_early(_inventory().hosts.values())
    assert opened == [(["proxy", "db", "ro1", "ro2", "ro3", "ro4"], remote.reachability)]
