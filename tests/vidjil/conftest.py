"""Fixtures of the Vidjil controls: HTTPS verified against the inventory's CA."""

from __future__ import annotations

import pytest

from deploycheck.http import Client
from deploycheck.inventory import Host, Inventory
from deploycheck.tls import https_client


@pytest.fixture(scope="session")
def vidjil_node(inventory: Inventory) -> Host:
    hosts = inventory.group("vidjil")
    if not hosts:
        pytest.skip("inventory has no hosts in group vidjil")
    return hosts[0]


@pytest.fixture(scope="session")
def vidjil_https(vidjil_node: Host, inventory: Inventory) -> Client:
    return https_client(vidjil_node)

