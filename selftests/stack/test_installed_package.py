"""`pip install` into a fresh virtualenv gives a working plugin: the
controls run from an installed copy, outside the source tree."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

WHEELHOUSE = ROOT / ".wheelhouse"  # `make wheelhouse`: the dependencies, fetched at set-up time


def _source(tmp_path: Path) -> Path:
    """The files a wheel is built from, copied fresh: an in-tree build would reuse
    setuptools' build/ folder, where files removed from the tree live on."""
    source = tmp_path / "source"
    for name in ("deploycheck", "tests"):
        shutil.copytree(ROOT / name, source / name, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    return source


def test_pip_installed_plugin_runs_the_controls(tmp_path: Path) -> None:
    """Offline: deploycheck's wheel is built from this tree now, its
    dependencies come from the wheelhouse; no package index is asked."""
    assert WHEELHOUSE.is_dir(), f"{WHEELHOUSE} is missing: run `make wheelhouse`"
    built = tmp_path / "built"
    wheel = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-index", "--find-links",
                            str(WHEELHOUSE), "--disable-pip-version-check", "-w", str(built), str(_source(tmp_path))],
                           capture_output=True, text=True, timeout=300)
    assert wheel.returncode == 0, wheel.stderr[-1500:]
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    [wheel_file] = built.glob("deploycheck-*.whl")
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", "--no-index",
                          "--find-links", str(WHEELHOUSE), str(wheel_file)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert pip.returncode == 0, pip.stderr[-1500:]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run = subprocess.run([str(venv / "bin" / "pytest"), "--pyargs", "deploycheck",
                          f"--inventory={ROOT / 'inventories' / 'reference-idr.yml'}", "-m", "not disruptive",
                          "-n", "2", "-q", "-p", "no:cacheprovider"],
                         cwd=elsewhere, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, (run.stdout + run.stderr)[-1500:]
    assert "warning" not in run.stdout.splitlines()[-1], run.stdout[-800:]
    report = json.loads((elsewhere / "reports" / "controls.json").read_text())
    ran_from = {c["id"] for c in report["controls"] if c["outcome"] == "passed"}
    assert len(ran_from) >= 80, f"only {len(ran_from)} controls passed from the installed copy"
    installed = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    assert (installed / "deploycheck" / "tests" / "idr" / "test_cache.py").is_file()
    assert not (elsewhere / "tests").exists() and not (elsewhere / "deploycheck").exists()


def _collected(pytest_argv: list[str], cwd: Path) -> list[str]:
    """Node ids of the controls a collection finds, by file name and test (the folder they sit in differs)."""
    argv = [*pytest_argv, "--pyargs", "deploycheck", *INVENTORIES, "--co", "-q", "-p", "no:cacheprovider"]
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (done.stdout + done.stderr)[-1500:]
    return sorted(line.split("tests/", 1)[-1] for line in done.stdout.splitlines() if "::test_" in line)


INVENTORIES = [f"--inventory={ROOT / 'inventories' / name}" for name in ("reference-idr.yml", "reference-vidjil.yml")]


def test_editable_install_collects_every_control(tmp_path: Path) -> None:
    """`pip install -e` (a developer's install) finds the controls as a regular install does."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", "--no-index",
                          "--find-links", str(WHEELHOUSE), "-e", str(ROOT)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert pip.returncode == 0, pip.stderr[-1500:]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    installed = _collected([str(venv / "bin" / "pytest")], elsewhere)
    in_tree = _collected([sys.executable, "-m", "pytest"], ROOT)
    assert len(installed) >= 116 and installed == in_tree, f"{len(installed)} collected, {len(in_tree)} in the tree"
