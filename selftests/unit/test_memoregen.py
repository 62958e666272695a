"""The memo-regeneration status reader on results folders built here."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from deploycheck.facts.memoregen import parse_status, status_command


def make_run(root: Path, name: str, images: int, outcomes: dict[str, list[str]], timed: bool) -> Path:
    """A folder shaped like regen-memo-files.sh's: image list, 1/input.NNN/stdout, timed."""
    run = root / f"rslt.{name}"
    run.mkdir(parents=True)
    (run / f"image-list-{name}.csv").write_text("".join(f"{i},100\n" for i in range(images)))
    for job, lines in outcomes.items():
        job_dir = run / "1" / job
        job_dir.mkdir(parents=True)
        text = "".join(f"{n}/{len(lines)} - {word}: {n} 1.0\n" for n, word in enumerate(lines, start=1))
        (job_dir / "stdout").write_text(text + "COMPLETE: processed rows\n")
        (job_dir / "stderr").write_text("")
    if timed:
        (run / "timed").write_text("real 42.50\nuser 40.00\nsys 1.00\n")
    return run


def status(root: Path):
    out = subprocess.run(["sh", "-c", status_command(str(root))], capture_output=True, text=True, check=True).stdout
    return parse_status(out)


def test_complete_run(tmp_path: Path) -> None:
    make_run(tmp_path, "20261124.100", 5, {"input.000": ["ok", "ok", "skip"], "input.001": ["ok", "fail"]}, True)
    s = status(tmp_path)
    assert (s.total, s.ok, s.skip, s.fail, s.complete, s.real_s) == (5, 3, 1, 1, True, 42.5)
    assert s.fail_pct == pytest.approx(20.0)
    assert "processed 5/5" in s.line()


def test_partial_run_is_not_complete(tmp_path: Path) -> None:
    make_run(tmp_path, "20261124.101", 10, {"input.000": ["ok", "ok"]}, timed=False)
    s = status(tmp_path)
    assert not s.complete and s.processed == 2 and s.total == 10


def test_newest_folder_counts(tmp_path: Path) -> None:
    old = make_run(tmp_path, "20261101.5", 2, {"input.000": ["fail", "fail"]}, True)
    os.utime(old, (1_700_000_000, 1_700_000_000))
    make_run(tmp_path, "20261124.4", 2, {"input.000": ["ok", "ok"]}, True)
    assert status(tmp_path).fail == 0


def test_empty_stdout_and_no_jobs(tmp_path: Path) -> None:
    run = make_run(tmp_path, "20261124.7", 3, {}, timed=False)
    (run / "1" / "input.000").mkdir(parents=True)
    (run / "1" / "input.000" / "stdout").write_text("")
    s = status(tmp_path)
    assert (s.processed, s.total, s.complete) == (0, 3, False)


def test_malformed_folder_without_image_list(tmp_path: Path) -> None:
    (tmp_path / "rslt.20261124.9" / "1").mkdir(parents=True)
    with pytest.raises(ValueError, match="no image-list"):
        status(tmp_path)


def test_no_results_folder(tmp_path: Path) -> None:
    assert status(tmp_path) is None
    assert status(tmp_path / "missing") is None


def test_garbage_timed_file(tmp_path: Path) -> None:
    run = make_run(tmp_path, "20261124.8", 1, {"input.000": ["ok"]}, timed=False)
    (run / "timed").write_text("Command terminated by signal 9\n")
    s = status(tmp_path)
    assert s.real_s is None and not s.complete
