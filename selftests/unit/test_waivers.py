"""Loading waivers: clear one-line errors, expiry."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from deploycheck.inventory import preflight
from deploycheck.report.waivers import WaiverError, find, load

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path, text: str):
    path = tmp_path / "waivers.yml"
    path.write_text(text)
    return path


def test_load_and_match(tmp_path) -> None:
    path = write(tmp_path, "waivers:\n  - {id: IDR-TLS-01, host: idr-proxy, justification: own CA, "
                           "expires: 2030-01-01}\n  - {id: IDR-SYS-01, justification: x, expires: '2020-01-01'}\n")
    waivers = load(path)
    assert find(waivers, "IDR-TLS-01", "idr-proxy").justification == "own CA"
    assert find(waivers, "IDR-TLS-01", "other") is None
    old = find(waivers, "IDR-SYS-01", "any")
    assert old.expired(dt.date(2026, 1, 1)) and not old.expired(dt.date(2019, 12, 31))


@pytest.mark.parametrize(("text", "message"), [
    ("[]", "top-level 'waivers:' list"),
    ("waivers:\n  - {id: X}\n", "lacks justification, expires"),
    ("waivers:\n  - {id: X, justification: j, expires: soon}\n", "not a YYYY-MM-DD date"),
    ("waivers:\n  - {id: X, justification: j, expires: 2030-01-01, until: 1}\n", "unknown key(s) ['until']"),
    ("waivers: [x\n", "not valid YAML"),
    ("- id: X\n", "top-level 'waivers:' list"),
    ("waivers: {id: X}\n", "top-level 'waivers:' list"),
    ("waivers: none\n", "top-level 'waivers:' list"),
    ("waivers: [X]\n", "waiver 1 is not a mapping"),
    ("waivers:\n  - {id: X, justification: j, expires: [2030, 1, 1]}\n", "expires '[2030, 1, 1]', not a YYYY"),
    ("waivers:\n  - {id: X, justification: j, expires: 2030-01-01 10:00:00}\n", "not a YYYY-MM-DD date"),
    ("waivers:\n  - {id: X, justification: j, expires: \"line\\nbreak\"}\n", "expires 'line break', not a"),
    ("waivers:\n  - {id: [X], justification: j, expires: 2030-01-01}\n", "waiver 1 has id '['X']', not text"),
    ("waivers:\n  - {id: 7, justification: j, expires: 2030-01-01}\n", "waiver 1 has id '7', not text"),
    ("waivers:\n  - {id: X, justification: {a: 1}, expires: 2030-01-01}\n", "has justification '{'a': 1}', not"),
    ("waivers:\n  - {id: X, host: [h], justification: j, expires: 2030-01-01}\n", "has host '['h']', not text"),
    ("waivers:\n  - {id: X, justification: j, expires: 2030-01-01, 1: a, b: c}\n", "unknown key(s) ['1', 'b']"),
    ("waivers: " + "[" * 900 + "]" * 900 + "\n", "nested too deeply"),
    ("l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]\n"
                                                          for n in range(1, 30)) + "waivers: []\n",
     "expands to more than 100000 values once YAML aliases are followed"),
    ("a: &a [1, *a]\nwaivers: []\n", "the YAML alias *a is inside the node it names"),
])
def test_bad_waivers(tmp_path, text: str, message: str) -> None:
    with pytest.raises(WaiverError, match=None) as err:
        load(write(tmp_path, text))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_missing_file(tmp_path) -> None:
    with pytest.raises(WaiverError, match="not found"):
        load(tmp_path / "none.yml")


def test_bytes_that_are_not_utf_8(tmp_path) -> None:
    path = tmp_path / "waivers.yml"
    path.write_bytes(b"\xff\xfe\x00waivers: []\n")
    with pytest.raises(WaiverError, match="not UTF-8 text"):
        load(path)


def test_a_file_past_the_size_bound(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(preflight, "MAX_FILE_BYTES", 1024)
    with pytest.raises(WaiverError, match="larger than 0 MiB"):
        load(write(tmp_path, "waivers: []\n" + "#" * 2000 + "\n"))


def test_malformed_waivers_stop_the_run_with_one_line(tmp_path) -> None:
    inv = tmp_path / "inv.yml"
    inv.write_text("all:\n  children:\n    database:\n      hosts: {d: {ansible_connection: local}}\n")
    (tmp_path / "waivers.yml").write_bytes(b"waivers:\n  - \xff\n")
    args = [f"--inventory={inv}", f"--waivers={tmp_path / 'waivers.yml'}", f"--reports-dir={tmp_path / 'reports'}"]
    done = subprocess.run([sys.executable, "-m", "pytest", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    lines = done.stderr.splitlines()
    assert done.returncode == 2 and len(lines) == 1 and "not UTF-8 text" in lines[0], done.stderr[-600:]
