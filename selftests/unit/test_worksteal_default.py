"""With workers and no --dist, controls go to workers by work stealing: the
slow control starts first and idle workers take what is queued behind it.
pytest-xdist sets an unset --dist to "load" before most plugins see it, so
this is checked through a real run's scheduler, not only the hook."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from deploycheck.plugin import _WorkStealingByDefault
from selftests.unit.tmp_suite import run_tmp_suite

ROOT = Path(__file__).resolve().parents[2]
RECORDER = """import os
def pytest_xdist_make_scheduler(config, log):
    with open(os.environ["DIST_OUT"], "a") as fh:
        fh.write(str(config.getvalue("dist")) + "\\n")
"""


def _scheduled(tmp_path: Path, *args: str) -> str:
    """The distribution mode pytest-xdist's scheduler was made with, in a real run."""
    (tmp_path / "conftest.py").write_text(RECORDER)
    (tmp_path / "test_one.py").write_text("def test_one():\n    assert True\n")
    (tmp_path / "inv.yml").write_text("all:\n  children:\n    database:\n      hosts:\n        d:\n"
                                      "          ansible_connection: local\n")
    out = tmp_path / "dist"
    done = run_tmp_suite(tmp_path, tmp_path / "test_one.py", tmp_path / "inv.yml", *args, env={"DIST_OUT": str(out)})
    assert "1 passed" in done.stdout, done.stdout[-600:] + done.stderr[-600:]
    return out.read_text().strip()


def test_workers_steal_by_default(tmp_path: Path) -> None:
    assert _scheduled(tmp_path, "-n", "2") == "worksteal"


def test_a_chosen_distribution_is_kept(tmp_path: Path) -> None:
    assert _scheduled(tmp_path, "-n", "2", "--dist", "load") == "load"


@pytest.mark.parametrize(("workers", "dist", "expected"), [
    (2, "no", "worksteal"), ("auto", "no", "worksteal"), (2, "loadfile", "loadfile"), (0, "no", "no"),
    (None, "no", "no"),
])
def test_the_hook(workers: object, dist: str, expected: str) -> None:
    config = SimpleNamespace(option=SimpleNamespace(numprocesses=workers, dist=dist))
    hook = _WorkStealingByDefault().pytest_cmdline_main(config)  # type: ignore[arg-type]
    next(hook)
    with pytest.raises(StopIteration):
        hook.send(0)
    assert config.option.dist == expected
