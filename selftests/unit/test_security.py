"""What an inventory written by someone else can make deploycheck do: no
option or command from a value, no secret in a repr, a log record, an
escaped copy or a report others can read."""

from __future__ import annotations

import json
import logging
import stat
import subprocess
import sys
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

import pytest

from deploycheck.facts.hostfacts import inventory_paths
from deploycheck.inventory.connection import CONNECTIONS
from deploycheck.inventory.loader import InventoryError, Node, load
from deploycheck.report.records import Record, write_all
from deploycheck.report.redact import MASK, Redactor, mask_output
from deploycheck.report.waivers import WaiverError
from deploycheck.report.waivers import load as load_waivers
from deploycheck.transport.shell import PersistentShell

ROOT = Path(__file__).resolve().parents[2]


def _inventory(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "inv.yml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("host", ["'-oProxyCommand=touch x': {}", "h: {ansible_host: '-oProxyCommand=touch x'}",
                                  "h: {ansible_user: '-oProxyCommand=touch x'}"])
def test_values_that_would_be_options_are_refused(tmp_path: Path, host: str) -> None:
    with pytest.raises(InventoryError, match="starts with '-'"):
        load([_inventory(tmp_path, f"all:\n  hosts:\n    {host}\n")])


@pytest.mark.parametrize("kind", ["ssh", "docker"])
def test_destinations_come_after_the_end_of_options(kind: str) -> None:
    host = Node("h", {"ansible_host": "db.example"})
    for argv in (CONNECTIONS[kind].shell_argv(host), CONNECTIONS[kind].relay_argv(host, "127.0.0.1", 5432)):
        assert argv is not None and argv[argv.index("db.example") - 1] == "--", argv


def test_host_and_inventory_reprs_hold_no_values(tmp_path: Path) -> None:
    inv = load([_inventory(tmp_path, "all:\n  hosts:\n    db: {db_password: s3cr3t-planted}\n")])
    assert "s3cr3t-planted" not in repr(inv.hosts["db"]) + repr(inv)


def test_secrets_are_masked_in_every_written_form() -> None:
    secret = 'pa"ss\\word\t<&>'
    forms = {secret, repr(secret)[1:-1], json.dumps(secret)[1:-1], xml_escape(secret, {'"': "&quot;"})}
    redact = Redactor([secret])
    for form in forms:
        text = redact(f"before {form} after")
        assert text == f"before {MASK} after", (form, text)


def test_a_waiver_ending_at_a_time_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "waivers.yml"
    path.write_text("waivers:\n  - {id: IDR-SYS-01, justification: x, expires: 2027-03-31 10:00:00}\n")
    with pytest.raises(WaiverError, match="not a YYYY-MM-DD date"):
        load_waivers(path)


def test_numeric_secrets_from_the_inventory_are_masked(tmp_path: Path) -> None:
    inv = load([_inventory(tmp_path, "all:\n  hosts:\n    db: {db_password: 73519284}\n")])
    assert Redactor.from_inventory(inv)("login 73519284") == f"login {MASK}"


def test_log_records_are_masked_when_made(caplog: pytest.LogCaptureFixture) -> None:
    mask_output(Redactor(["s3cr3t-in-log"]))
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("deploycheck.unit").debug("password is %s", "s3cr3t-in-log")
    assert caplog.records and "s3cr3t-in-log" not in caplog.text and MASK in caplog.text


def test_reports_are_private(tmp_path: Path) -> None:
    write_all(tmp_path / "reports", {"inventory": "x", "duration_s": 1.0, "counts": {}},
              [Record("IDR-SYS-01", "t", "high", "r", "h", "passed", 0.1, "", "n")])
    assert stat.S_IMODE((tmp_path / "reports").stat().st_mode) == 0o700
    for name in ("controls.json", "summary.md"):
        assert stat.S_IMODE((tmp_path / "reports" / name).stat().st_mode) == 0o600


def test_only_declared_path_variables_are_probed(tmp_path: Path) -> None:
    inv = load([_inventory(tmp_path, "all:\n  hosts:\n    h: {ansible_ssh_private_key_file: /home/me/.ssh/id, "
                                     "notes: /etc/shadow, omero_data_dir: /srv/omero}\n")])
    paths = inventory_paths(inv.hosts["h"])
    assert "/srv/omero" in paths and "/etc/shadow" not in paths and not any(".ssh" in p for p in paths)


def test_secrets_reach_remote_commands_on_stdin_only() -> None:
    shell = PersistentShell(["/bin/sh"], "unit-stdin")
    try:
        rc, out, _ = shell.run("IFS= read -r s; ps -o args= -p $$ -p $PPID; printf '%s' \"$s\"",
                               stdin="s3cr3t-on-stdin")
    finally:
        shell.close()
    lines = out.decode().splitlines()
    assert rc == 0 and lines[-1] == "s3cr3t-on-stdin"
    assert not any("s3cr3t-on-stdin" in line for line in lines[:-1]), lines


@pytest.mark.parametrize(("option", "message"), [
    ("--wait-ready=nan", "give seconds from 0 to 86400"),
    ("--wait-ready=abc", "not a number of seconds"),
    ("--reports-dir=pyproject.toml", "--reports-dir=pyproject.toml"),
])
def test_bad_options_are_one_line(tmp_path: Path, option: str, message: str) -> None:
    inv = _inventory(tmp_path, "all:\n  children:\n    database:\n      hosts: {d: {ansible_connection: local}}\n")
    done = subprocess.run([sys.executable, "-m", "pytest", f"--inventory={inv}", option], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2 and len(lines) == 1 and message in lines[0], done.stderr[-400:]
