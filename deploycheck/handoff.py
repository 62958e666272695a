"""pytest-xdist's controller and its workers: what one hands the other.

The controller reads the inventory (with Ansible), opens the SSH master
connections and resolves ssh's configuration once; each worker starts
from that instead of paying for it again. ``ToWorkers`` is the
controller's side, a plugin object registered from pytest_configure (as
pytest-xdist registers its own session); ``FromController`` is a worker's
side, read from the ``workerinput`` pytest-xdist gives it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest

from deploycheck.inventory import shipped
from deploycheck.inventory.loader import Inventory, InventoryError
from deploycheck.transport import http, masters
from deploycheck.transport.sshstate import adopt_settings, resolved_settings, share_control_dir

if TYPE_CHECKING:
    from deploycheck.report.redact import Redactor

RUN_ID = "deploycheck_run_id"
INVENTORY = "deploycheck_inventory"
BASELINE = "deploycheck_baseline"
CONTROL_DIR = "deploycheck_control_dir"
SSH_SETTINGS = "deploycheck_ssh_settings"


class _WorkerNode(Protocol):
    """What ``pytest_configure_node`` reads of pytest-xdist's worker (pytest-xdist ships no types)."""

    workerinput: dict[str, object]


class ToWorkers:
    """The controller's side: the run's id, the inventory as read here (see
    deploycheck.inventory.shipped), the --baseline URL, and once opened, the
    folder of the SSH connections and ssh's resolutions (see transport.masters)."""

    def __init__(self, inventory: Inventory, redact: Redactor, baseline: str | None) -> None:
        self.inventory = inventory
        self.redact = redact
        self.baseline = baseline
        self.masters: Path | None = None  # set when the controller opened the master connections
        self._shipped: dict[str, Any] | None = None
        self._shipped_once = False

    def _inventory_wire(self) -> dict[str, Any] | None:
        if not self._shipped_once:  # rendered once, for every worker
            self._shipped = shipped.ship(self.inventory, self.redact.secrets)
            self._shipped_once = True
        return self._shipped

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: _WorkerNode) -> None:
        node.workerinput[RUN_ID] = http.RUN_ID
        wire = self._inventory_wire()
        if wire is not None:
            node.workerinput[INVENTORY] = wire
        if self.baseline is not None:
            node.workerinput[BASELINE] = self.baseline
        if self.masters is not None:
            node.workerinput[CONTROL_DIR] = str(self.masters)
            node.workerinput[SSH_SETTINGS] = resolved_settings()


class FromController:
    """A worker's side: what its controller handed it."""

    def __init__(self, given: dict[str, object]) -> None:
        self.given = given

    @classmethod
    def of(cls, config: pytest.Config) -> FromController | None:
        """The hand-off of a worker; None in a process that is no worker."""
        given = getattr(config, "workerinput", None)
        return cls(given) if isinstance(given, dict) else None

    def inventory(self) -> tuple[Inventory, list[str]] | None:
        """The controller's reading and the run's secrets; None when the inventory could not travel."""
        wire = self.given.get(INVENTORY)
        return shipped.received(wire) if isinstance(wire, dict) else None

    def baseline(self) -> str | None:
        url = self.given.get(BASELINE)
        return url if isinstance(url, str) else None

    def adopt(self) -> None:
        """Take the run's id, the controller's SSH connections (the first few
        workers only: sshd bounds the sessions of one connection) and its ssh resolutions."""
        http.adopt_run_id(self.given.get(RUN_ID))
        folder = self.given.get(CONTROL_DIR)
        number = str(self.given.get("workerid", "")).removeprefix("gw")
        if isinstance(folder, str) and number.isdigit() and int(number) < masters.SHARING_WORKERS:
            try:
                share_control_dir(Path(folder))
            except (OSError, InventoryError) as exc:
                print(f"deploycheck: {exc}", file=sys.stderr)
        adopt_settings(self.given.get(SSH_SETTINGS))
