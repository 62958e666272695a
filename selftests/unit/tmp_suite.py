"""pytest run as a user runs it, on a test file of a test's own folder with
this project's plugin and an inventory: for checks that only a real run
(workers, schedulers, imports) can show."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_tmp_suite(folder: Path, test_file: Path, inventory: Path, *args: str,
                  env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args,
                           f"--inventory={inventory}", f"--rootdir={folder}", f"--reports-dir={folder / 'reports'}",
                           str(test_file)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})})
