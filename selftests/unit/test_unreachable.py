"""A host the run cannot reach: each control that observes it through its
shell ends as an error with the run's one-line cause, whether it takes the
testinfra ``host``, says ``shell=True``, reads a question asked there, or
finds the host gone while it runs; no traceback. A control that only
talks to the public site still runs."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from selftests.unit.tmp_suite import run_tmp_suite

CONTROLS = '''
import pytest
from deploycheck.control import control
from deploycheck.facts import hostfacts
from deploycheck.facts.question import ask, command

uname = command("uname", lambda node: "uname -s")


@control("IDR-SELFREACH-01", "Takes the testinfra host", "low", "selftest")
@pytest.mark.hosts("proxy")
def test_host(node, host):
    assert host.run("true").rc == 0


@control("IDR-SELFREACH-02", "Reads its host through the shell", "low", "selftest", shell=True)
@pytest.mark.hosts("proxy")
def test_declared(node):
    assert hostfacts.output(node, "true") == ""


@control("IDR-SELFREACH-03", "Reads a question asked on its host", "low", "selftest", reads=(uname,))
@pytest.mark.hosts("proxy")
def test_reads(node):
    assert ask(uname, node)


@control("IDR-SELFREACH-04", "Finds its host gone while it runs", "low", "selftest")
@pytest.mark.hosts("proxy")
def test_gone(node):
    assert hostfacts.output(node, "true") == ""


@control("IDR-SELFREACH-06", "Its connection closes under a command", "low", "selftest")
@pytest.mark.hosts("proxy")
def test_closed(node):
    from deploycheck.transport.shell import ShellClosedError

    raise ShellClosedError("alpha: the connection closed (Broken pipe)")


@control("IDR-SELFREACH-05", "Needs no shell", "low", "selftest")
@pytest.mark.hosts("proxy")
def test_site(node):
    assert node.name == "alpha"
'''


def _closed_port() -> int:
    """A local port nothing listens on: a connection to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_host_is_one_error_line_per_control(tmp_path: Path) -> None:
    (tmp_path / "test_reach.py").write_text(CONTROLS)
    (tmp_path / "inv.yml").write_text(
        "all:\n  children:\n    proxy:\n      hosts:\n        alpha:\n"
        f"          {{ansible_connection: ssh, ansible_host: 127.0.0.1, ansible_port: {_closed_port()},"
        " ansible_user: nobody, public_url: 'http://127.0.0.1:9'}\n")
    done = run_tmp_suite(tmp_path, tmp_path / "test_reach.py", tmp_path / "inv.yml")
    rows = {r["id"]: r for r in json.loads((tmp_path / "reports" / "controls.json").read_text())["controls"]}
    assert rows["IDR-SELFREACH-05"]["outcome"] == "passed", done.stdout[-2000:]
    shell = [rows[f"IDR-SELFREACH-0{i}"] for i in range(1, 5)]
    assert {r["outcome"] for r in shell} == {"error"}, [(r["id"], r["outcome"], r["message"]) for r in shell]
    causes = {r["message"] for r in shell}
    assert len(causes) == 1, causes
    cause = causes.pop()
    assert cause.startswith("alpha: unreachable (") and "\n" not in cause, cause
    closed = rows["IDR-SELFREACH-06"]
    assert (closed["outcome"], closed["message"]) == ("error", "alpha: the connection closed (Broken pipe)"), closed
    assert "Traceback" not in done.stdout + done.stderr, done.stdout[-2000:]
