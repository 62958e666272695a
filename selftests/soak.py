"""``make soak N=20``: the full default suite N times on the healthy stacks;
every failure is reported with its run number. Exit 1 when any run failed."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INVENTORIES = ["inventories/reference-idr.yml", "inventories/reference-vidjil.yml"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=20)
    args = parser.parse_args(argv)
    failures: list[str] = []
    times: list[float] = []
    with tempfile.TemporaryDirectory(prefix="deploycheck-soak-") as tmp:
        for run in range(1, args.runs + 1):
            reports = Path(tmp) / str(run)
            started = time.monotonic()
            subprocess.run([sys.executable, "-m", "pytest", *[f"--inventory={i}" for i in INVENTORIES],
                            "-n", "auto", "-m", "not disruptive", "-q", f"--reports-dir={reports}"],
                           cwd=ROOT, capture_output=True, text=True, timeout=900)
            times.append(time.monotonic() - started)
            controls = json.loads((reports / "controls.json").read_text())["controls"]
            bad = [f"run {run}: {c['id']} on {c['host']} {c['outcome']}: {c['message'][:160]}"
                   for c in controls if c["outcome"] in ("failed", "error")]
            failures += bad
            print(f"[soak] run {run}/{args.runs}: {len(controls)} controls, {len(bad)} failed, {times[-1]:.1f} s",
                  flush=True)
    for line in failures:
        print(f"[soak] {line}")
    print(f"soak: {args.runs} runs, {len(failures)} failures, {min(times):.1f}-{max(times):.1f} s per run")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
