"""The hostile-input corpus (selftests/hostile/) on the preview commands:
nothing runs, each input gives its outcome, a refusal is one line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CASES: list[dict[str, Any]] = yaml.safe_load((ROOT / "selftests" / "hostile" / "cases.yml").read_text())["cases"]
CLEAN = """all:
  vars: {ansible_connection: docker}
  children:
    proxy:
      hosts:
        p1: {public_url: "http://127.0.0.1:18080"}
"""


def materialise(case: dict[str, Any], folder: Path) -> tuple[Path, Path]:
    """The case's files in ``folder``; returns the source to read and the marker that must not appear."""
    marker = folder / "MARKER"
    for name, text in case["files"].items():
        path = folder / name
        path.write_text(text.replace("@MARKER@", str(marker)).replace("@DIR@", str(folder)))
        if name.endswith(".py"):
            path.chmod(0o755)
    source = case.get("source", "inventory.yml")
    return (folder if source == "folder" else folder / source), marker


def commands(source: Path, work: Path) -> dict[str, list[str]]:
    clean = work / "clean.yml"
    clean.write_text(CLEAN)
    preview = [sys.executable, "-m", "deploycheck.inventory", "-i", str(source)]
    collect = [sys.executable, "-m", "pytest", "--co", "-q", f"--reports-dir={work / 'reports'}"]
    return {"list": [*preview, "--list"], "expectations": [*preview, "--expectations"],
            "collect": [*collect, f"--inventory={source}"],
            "baseline": [*collect, f"--inventory={clean}", f"--baseline={source}"]}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_hostile_input(case: dict[str, Any], tmp_path: Path) -> None:
    folder = tmp_path / "case"
    folder.mkdir()
    source, marker = materialise(case, folder)
    runs = commands(source, tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "PYTEST_"))}
    for command, status in case["expect"].items():
        done = subprocess.run(runs[command], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
        said = f"{command}: exit {done.returncode}\nstdout: {done.stdout[-1500:]}\nstderr: {done.stderr[-1500:]}"
        assert not marker.exists(), f"the payload ran during {command}"
        assert done.returncode == status, said
        if status == 2:
            lines = done.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("deploycheck: "), said
            assert re.search(case["stderr"], lines[0]), said
        assert "Traceback" not in done.stderr, said
        for secret in case.get("secrets", []):
            assert secret not in done.stdout + done.stderr, f"{command} shows a secret"
        if case.get("no_raw_escapes"):
            assert not set(done.stdout + done.stderr) & {"\x1b", "\x07", "\x9b"}, said


def test_every_case_names_its_commands() -> None:
    for case in CASES:
        assert case["expect"] and set(case["expect"]) <= {"list", "expectations", "collect", "baseline"}
        assert set(case) <= {"name", "why", "files", "source", "expect", "stderr", "secrets", "no_raw_escapes"}
        if 2 in case["expect"].values():
            assert case.get("stderr"), case["name"]
