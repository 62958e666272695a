"""Fixtures of the IDR host controls."""

from __future__ import annotations

import pytest

from deploycheck.inventory import Host, Inventory


@pytest.fixture(scope="session")
def outside(inventory: Inventory) -> Host:
    """The vantage point outside the private network (group ``outside``)."""
    hosts = inventory.group("outside")
    if not hosts:
        pytest.skip("inventory has no host in group 'outside' to probe from")
    return hosts[0]
