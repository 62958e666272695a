"""Helpers for self-tests that run deploycheck against the live reference stacks."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Run:
    rc: int
    output: str
    seconds: float
    reports: Path

    def controls(self) -> list[dict]:
        import json

        return json.loads((self.reports / "controls.json").read_text())["controls"]

    def all_text(self) -> str:
        """Everything the run wrote: terminal output and every report."""
        files = [p.read_text(errors="replace") for p in self.reports.glob("*") if p.is_file()]
        return "\n".join([self.output, *files])


def reference(name: str) -> dict:
    """A reference inventory as data, with its relative *_file paths made absolute."""
    data = yaml.safe_load((ROOT / "inventories" / f"reference-{name}.yml").read_text())

    def fix(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key.endswith("_file") and isinstance(value, str) and not value.startswith("/"):
                    node[key] = str((ROOT / "inventories" / value).resolve())
                else:
                    fix(value)

    fix(data)
    return data


@pytest.fixture
def deploycheck(tmp_path: Path):
    """``deploycheck(inventory_dict, *args)`` runs the suite in a subprocess."""

    def run(inventory: dict, *args: str, waivers: dict | None = None, timeout: float = 300) -> Run:
        inv = tmp_path / "inventory.yml"
        inv.write_text(yaml.safe_dump(inventory))
        extra = []
        if waivers is not None:
            (tmp_path / "waivers.yml").write_text(yaml.safe_dump(waivers))
            extra.append(f"--waivers={tmp_path / 'waivers.yml'}")
        reports = tmp_path / "reports"
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "pytest", f"--inventory={inv}", f"--reports-dir={reports}",
                               "-m", "not disruptive", *extra, *args], cwd=ROOT, capture_output=True, text=True,
                              timeout=timeout)
        return Run(done.returncode, done.stdout + done.stderr, time.monotonic() - started, reports)

    return run
