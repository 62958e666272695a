"""Report files: the reports folder is the user's alone, and a symlink or file
planted under a report's name (junit.xml, controls.json, summary.md, the
Prometheus textfile, $GITHUB_STEP_SUMMARY) is never followed, truncated or
chmodded."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from deploycheck.inventory.loader import InventoryError
from deploycheck.plugin import _reports_dir
from deploycheck.report import files
from deploycheck.report.markdown import append_step_summary
from deploycheck.report.prometheus import write_textfile
from deploycheck.report.records import Record, write_all
from selftests.unit.tmp_suite import ROOT, run_tmp_suite

VICTIM_TEXT = "the victim's own content\n"
REPORTS = ("junit.xml", "controls.json", "summary.md")
RUN = {"inventory": "x", "duration_s": 1.0, "counts": {"passed": 1}, "exit_status": 0, "ended": 0.0}
RECORDS = [Record("IDR-SYS-01", "t", "high", "r", "h", "passed", 0.1, "", "tests/idr/test_sys.py::test_a[h]")]

SUITE = textwrap.dedent('''
    import pytest

    from deploycheck.control import control


    @control("IDR-SELFPASS-01", "Passes on every host", "low", "selftest")
    @pytest.mark.hosts("proxy")
    def test_passes(node):
        assert node.name
''')
INVENTORY = "all:\n  vars: {ansible_connection: local}\n  children:\n    proxy:\n      hosts:\n" \
            "        alpha: {public_url: 'http://127.0.0.1:9'}\n"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _victim(tmp_path: Path) -> Path:
    victim = tmp_path / "victim.txt"
    victim.write_text(VICTIM_TEXT)
    victim.chmod(0o644)
    return victim


def _assert_untouched(victim: Path) -> None:
    assert victim.read_text() == VICTIM_TEXT and _mode(victim) == 0o644


def _plant(folder: Path, victim: Path, names: tuple[str, ...] = REPORTS) -> None:
    folder.mkdir(mode=0o755, exist_ok=True)
    folder.chmod(0o755)
    for name in names:
        (folder / name).symlink_to(victim)


def test_planted_symlinks_are_replaced_not_followed(tmp_path: Path) -> None:
    victim = _victim(tmp_path)
    _plant(tmp_path / "reports", victim)
    write_all(tmp_path / "reports", RUN, RECORDS)
    _assert_untouched(victim)
    for name in ("controls.json", "summary.md"):
        written = tmp_path / "reports" / name
        assert not written.is_symlink() and _mode(written) == 0o600, name
    assert json.loads((tmp_path / "reports" / "controls.json").read_text())["controls"][0]["id"] == "IDR-SYS-01"
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == sorted(REPORTS)  # no temporary left


@pytest.mark.parametrize("mode", [0o755, 0o777, 0o1777])
def test_an_open_reports_folder_is_tightened(tmp_path: Path, mode: int) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    folder.chmod(mode)
    write_all(folder, RUN, RECORDS)
    assert _mode(folder) == 0o700


def test_a_symlinked_or_foreign_reports_folder_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "real").mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(InventoryError, match="is a symlink"):
        _reports_dir(tmp_path / "link")
    monkeypatch.setattr(os, "geteuid", lambda: os.stat(tmp_path / "real").st_uid + 1)
    with pytest.raises(InventoryError, match="belongs to another user"):
        _reports_dir(tmp_path / "real")
    with pytest.raises(files.ReportsFolderError, match="is not a folder"):
        files.private_dir(Path(__file__))


def test_a_symlinked_reports_folder_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    (tmp_path / "inv.yml").write_text(INVENTORY)
    (tmp_path / "test_tiny.py").write_text(SUITE)
    inv = tmp_path / "inv.yml"
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--inventory={inv}",
                           f"--reports-dir={tmp_path / 'link'}", str(tmp_path / "test_tiny.py")],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2 and len(lines) == 1 and "is a symlink" in lines[0], done.stderr[-400:]


def test_the_step_summary_is_not_appended_through_a_symlink(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    victim = _victim(tmp_path)
    (tmp_path / "summary").symlink_to(victim)
    append_step_summary(str(tmp_path / "summary"), "# summary\n")
    _assert_untouched(victim)
    assert capsys.readouterr().err.startswith("deploycheck: cannot write GITHUB_STEP_SUMMARY")
    plain = tmp_path / "plain.md"
    plain.write_text("earlier")
    append_step_summary(str(plain), "# summary\n")
    assert plain.read_text() == "earlier\n\n# summary\n"


def test_the_prometheus_textfile_replaces_a_planted_symlink(tmp_path: Path) -> None:
    victim = _victim(tmp_path)
    textfile = tmp_path / "deploycheck.prom"
    textfile.symlink_to(victim)
    write_textfile(textfile, RUN, RECORDS)
    _assert_untouched(victim)
    assert not textfile.is_symlink() and _mode(textfile) == 0o644
    assert "deploycheck_control_passed" in textfile.read_text()


def test_junit_xml_is_private_after_a_real_run(tmp_path: Path) -> None:
    """pytest's junitxml writes junit.xml itself (umask 022 here): it is 0600
    all the same, written into a folder that was 0755 with every report's name
    a symlink to someone else's file."""
    victim = _victim(tmp_path)
    _plant(tmp_path / "reports", victim)
    (tmp_path / "test_tiny.py").write_text(SUITE)
    (tmp_path / "inv.yml").write_text(INVENTORY)
    (tmp_path / "custom").mkdir()
    (tmp_path / "custom" / "out.xml").symlink_to(victim)
    for extra in ((), (f"--junitxml={tmp_path / 'custom' / 'out.xml'}",)):
        done = run_tmp_suite(tmp_path, tmp_path / "test_tiny.py", tmp_path / "inv.yml", *extra)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        _assert_untouched(victim)
    assert _mode(tmp_path / "reports") == 0o700
    for junit in (tmp_path / "reports" / "junit.xml", tmp_path / "custom" / "out.xml"):
        assert not junit.is_symlink() and _mode(junit) == 0o600, junit
        assert "IDR-SELFPASS-01[alpha]" in junit.read_text()
    for name in ("controls.json", "summary.md"):
        assert _mode(tmp_path / "reports" / name) == 0o600
