"""--control selects controls by id or id prefix, never by host name: a host
named like a control (which -k matches) neither adds nor drops controls."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from deploycheck.catalogue import load_controls

ROOT = Path(__file__).resolve().parents[2]
FILES = ("tests/idr/test_cache.py", "tests/idr/test_tls.py")
HOSTS = ("IDR-CACHE-01", "web")  # a proxy named like a control
INVENTORY = "all:\n  vars: {ansible_connection: local}\n  children:\n    proxy:\n      hosts:\n" + "".join(
    f"        {host}: {{public_url: 'http://127.0.0.1:9'}}\n" for host in HOSTS)


def _collect(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "inv.yml").write_text(INVENTORY)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q",
                           f"--inventory={tmp_path / 'inv.yml'}", f"--reports-dir={tmp_path / 'reports'}",
                           *args, *FILES], cwd=ROOT, capture_output=True, text=True, timeout=120)


def _selected(tmp_path: Path, *args: str) -> set[tuple[str, str]]:
    """(control id, host) of each control the run would run."""
    done = _collect(tmp_path, *args)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    ids = {entry.nodeid: entry.id for entry in load_controls()}
    found = set()
    for line in done.stdout.splitlines():
        if "::" in line:
            function, _, host = line.partition("[")
            found.add((ids[function], host.removesuffix("]")))
    return found


def _every(prefix: str) -> set[tuple[str, str]]:
    return {(entry.id, host) for entry in load_controls() for host in HOSTS
            if entry.id.startswith(prefix + "-") and entry.nodeid.split("::")[0] in FILES}


def test_k_matches_host_names_and_control_does_not(tmp_path: Path) -> None:
    by_k = _selected(tmp_path, "-k", "IDR-CACHE-01")
    assert ("IDR-TLS-01", "IDR-CACHE-01") in by_k  # the reason for --control
    assert _selected(tmp_path, "--control", "IDR-CACHE-01") == {("IDR-CACHE-01", host) for host in HOSTS}


def test_control_takes_families_and_repeats(tmp_path: Path) -> None:
    cache = _every("IDR-CACHE")
    assert len(cache) > 2 * len(HOSTS)
    assert _selected(tmp_path, "--control", "IDR-CACHE") == cache
    assert _selected(tmp_path, "--control", "IDR-TLS", "--control", "IDR-CACHE-01") == _every("IDR-TLS") | {
        ("IDR-CACHE-01", host) for host in HOSTS}


@pytest.mark.parametrize("selector", ["idr-cache", "IDR-CAC", "IDR-NOPE-01"])
def test_a_selector_matching_no_control_is_one_line(tmp_path: Path, selector: str) -> None:
    done = _collect(tmp_path, f"--control={selector}")
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2 and len(lines) == 1, done.stderr[-400:]
    assert lines[0] == f"deploycheck: --control={selector}: no control has this id or id prefix (see make controls)"
