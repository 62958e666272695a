"""The bench's CPU accounting counts a child's CPU as the suite's, and the
machine's busy time includes it: what the scale16 floor is computed from."""

from __future__ import annotations

import subprocess
import sys

from bench import cpu


def test_a_childs_cpu_is_counted_for_the_suite_and_the_machine() -> None:
    with cpu.used() as used:
        subprocess.run([sys.executable, "-c", "import time\nend = time.process_time() + 0.3\n"
                        "while time.process_time() < end: pass"], check=True, timeout=60)
    assert used["suite_s"] is not None and used["suite_s"] >= 0.25
    assert used["machine_s"] is not None and used["machine_s"] >= 0.9 * used["suite_s"]
    assert used["floor_s"] is not None and used["floor_s"] <= used["machine_s"]
    assert used["hosts_s"] is None or used["hosts_s"] >= 0


def test_runs_divide_the_totals() -> None:
    with cpu.used(runs=2) as two, cpu.used() as one:
        subprocess.run([sys.executable, "-c", "sum(range(3 * 10**6))"], check=True, timeout=60)
    assert two["suite_s"] is not None and one["suite_s"] is not None
    assert abs(2 * two["suite_s"] - one["suite_s"]) <= 0.02
