"""Seed 004, First configuration and first launch (change the mysql root and
vidjil passwords): the database no longer accepts the passwords shipped in
Vidjil's compose files."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control
from deploycheck.inventory.loader import cut
from deploycheck.inventory.variables import expect
from deploycheck.transport import compose

if TYPE_CHECKING:
    from deploycheck.inventory.loader import Node

pytestmark = pytest.mark.hosts("vidjil")
READS = ("shipped_db_passwords",)


@control("VIDJIL-DB-01", "The MySQL root and vidjil passwords are not the shipped ones", "critical",
         "seed 004: First configuration and first launch (change the mysql root and vidjil passwords)")
def test_db_passwords_changed(node: Node) -> None:
    """The shipped passwords are public in Vidjil's repository, and it has
    shipped several over the years; anyone who reaches MySQL with one of
    them owns every sample."""
    shipped = expect(node, "shipped_db_passwords")
    if not shipped:
        pytest.skip(f"{node.name}: the inventory lists no shipped passwords to try")
    accepted = []
    for user, passwords in shipped.items():
        for number, password in enumerate([passwords] if isinstance(passwords, str) else passwords, 1):
            # the password goes in the environment, not in a command line
            code, out = compose.run(node, "mysql", f"mysql --protocol=TCP -h 127.0.0.1 -u {shlex.quote(user)} "
                                                   "-N -e 'SELECT 1' 2>&1", environment={"MYSQL_PWD": password})
            if code == 0:
                accepted.append(f"{user} (shipped password #{number})")
            elif "denied" not in out.lower():
                raise AssertionError(f"{node.name}: cannot judge {user}'s password: {cut(out.strip(), 120)!r}")
    assert not accepted, f"{node.name}: MySQL accepts the shipped password for {accepted}"
