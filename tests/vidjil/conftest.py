"""Fixtures of the Vidjil controls: HTTPS verified against the inventory's CA."""

from __future__ import annotations

import pytest

from deploycheck.control import first_host
from deploycheck.facts.tls import https_client
from deploycheck.inventory.loader import Inventory, Node
from deploycheck.transport.http import Client


@pytest.fixture(scope="session")
def vidjil_node(inventory: Inventory) -> Node:
    return first_host(inventory, "vidjil")


@pytest.fixture(scope="session")
def vidjil_https(vidjil_node: Node) -> Client:
    """HTTPS client for the Vidjil site, as a visitor without a session reaches it."""
    return https_client(vidjil_node)
