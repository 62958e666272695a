"""Fixtures of the Vidjil controls: HTTPS verified against the inventory's CA."""

from __future__ import annotations

import pytest

from deploycheck.controls import first_host
from deploycheck.http import Client
from deploycheck.inventory import Host, Inventory
from deploycheck.tls import https_client


@pytest.fixture(scope="session")
def vidjil_node(inventory: Inventory) -> Host:
    return first_host(inventory, "vidjil")


@pytest.fixture(scope="session")
def vidjil_https(vidjil_node: Host, inventory: Inventory) -> Client:
    return https_client(vidjil_node)

