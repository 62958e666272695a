"""Fixtures of the IDR host controls."""

from __future__ import annotations

import pytest

from deploycheck.control import first_host
from deploycheck.inventory.loader import Host, Inventory


@pytest.fixture(scope="session")
def outside(inventory: Inventory) -> Host:
    """The vantage point outside the private network (group ``outside``)."""
    return first_host(inventory, "outside")
