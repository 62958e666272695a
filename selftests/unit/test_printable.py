"""Control characters from an inventory or a host's answer are shown escaped:
in one-line texts and names all of them, in messages all but newlines and tabs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from deploycheck.report import printable
from selftests.unit.tmp_suite import run_tmp_suite

ROOT = Path(__file__).resolve().parents[2]


def test_names_show_every_control_character_escaped() -> None:
    assert printable.text("a\x1b[31mb\x07\x00\x0b\t\n\x7f\x9bé") == "a\\x1b[31mb\\x07\\x00\\x0b\\x09\\x0a\\x7f\\x9bé"
    assert printable.text("bad\udcff") == "bad\\udcff"  # not UTF-8: never written raw


def test_messages_keep_their_lines() -> None:
    assert printable.lines("one\x1b[0m\r\ntwo\tthree") == "one\\x1b[0m\\x0d\ntwo\tthree"


def test_colours_kept_only_when_asked() -> None:
    text = "\x1b[31mred\x1b[0m\x07\x1b]0;title\x07"
    assert printable.lines(text, keep_colours=True) == "\x1b[31mred\x1b[0m\\x07\\x1b]0;title\\x07"
    assert "\x1b" not in printable.lines(text)


def test_escaping_twice_changes_nothing() -> None:
    once = printable.text("\x1b\n\x00")
    assert printable.text(once) == printable.lines(once) == once


def test_a_refusal_naming_such_a_host_is_one_printable_line(tmp_path: Path) -> None:
    inv = tmp_path / "inv.yml"
    inv.write_text('all:\n  children:\n    proxy:\n      hosts:\n'
                   '        "esc\\ebell\\a": {ansible_connection: local}\n')
    done = subprocess.run([sys.executable, "-m", "pytest", f"--inventory={inv}", str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2 and len(lines) == 1, done.stderr[-400:]
    assert "esc\\x1bbell\\x07" in lines[0] and "\x1b" not in done.stderr + done.stdout, lines


def test_forced_colours_stay_colours(tmp_path: Path) -> None:
    """CI often forces colours (PY_COLORS=1): a failure's traceback keeps them, not shown escaped."""
    (tmp_path / "test_tiny.py").write_text(
        "import pytest\nfrom deploycheck.control import control\n\n\n"
        "@control('IDR-SELFFAIL-01', 'Fails', 'low', 'selftest')\n@pytest.mark.hosts('proxy')\n"
        "def test_fails(node):\n    assert node.name == 'nobody'\n")
    (tmp_path / "inv.yml").write_text("all:\n  vars: {ansible_connection: local}\n  children:\n    proxy:\n"
                                      "      hosts: {alpha: {public_url: 'http://127.0.0.1:9'}}\n")
    done = run_tmp_suite(tmp_path, tmp_path / "test_tiny.py", tmp_path / "inv.yml", env={"PY_COLORS": "1"})
    assert done.returncode == 1 and "assert 'alpha' == 'nobody'" in done.stdout, done.stdout[-2000:]
    assert "\x1b[" in done.stdout and "\\x1b[" not in done.stdout
