"""Secrets stay out of reports; reports have the documented shape."""

from __future__ import annotations

import json
from pathlib import Path

from deploycheck.inventory.loader import load
from deploycheck.report.records import Record, write_all
from deploycheck.report.redact import MASK, Redactor


def test_inventory_secrets_are_masked(tmp_path: Path) -> None:
    source = tmp_path / "inv.yml"
    source.write_text("all:\n  hosts:\n    db: {omero_db_password: s3cr3t-pw, ansible_ssh_private_key_file: /k}\n")
    inv = load([source])
    redact = Redactor.from_inventory(inv)
    assert redact("login with s3cr3t-pw failed") == f"login with {MASK} failed"
    assert redact("/k") == "/k"


def test_reports_shape(tmp_path) -> None:
    record = Record("IDR-SYS-01", "t", "high", "seed 000", "h1", "failed", 0.5, "h1: bad | worse", "n")
    run = {"inventory": "x.yml", "duration_s": 1.0, "counts": {"failed": 1}}
    write_all(tmp_path, run, [record])
    data = json.loads((tmp_path / "controls.json").read_text())
    assert set(data) == {"run", "controls"}
    assert {"id", "title", "severity", "ref", "host", "outcome", "duration_s", "message"} <= set(data["controls"][0])
    summary = (tmp_path / "summary.md").read_text()
    assert "| IDR-SYS-01 | h1 | **failed** |" in summary and "bad \\| worse" in summary
