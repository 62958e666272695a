"""The one-program facts (one stat for many paths, one grep for many
cgroups) read exactly what the per-item loops they replace read, here on
this machine's own files and processes; accesslog.lookup gives every
request its own entry or error; worker processes adopt only a run id of
the right shape."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from deploycheck.facts import hostfacts, listeners
from deploycheck.facts.accesslog import LogEntry, LogLineNotFoundError, lookup
from deploycheck.transport import http


def _sh(command: str) -> str:
    return subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, timeout=30).stdout


def test_one_stat_names_each_path_present_or_missing(tmp_path: Path) -> None:
    spaced = tmp_path / "a dir"
    spaced.mkdir(mode=0o750)
    spaced.chmod(0o750)
    missing = str(tmp_path / "nothing-here")
    odd = str(tmp_path / "-dash")
    Path(odd).write_text("x")
    paths = [str(spaced), missing, odd, "/proc"]
    found = hostfacts.parse_stats(_sh(hostfacts.stat_command(paths)), paths)
    assert set(found) == set(paths)
    assert found[str(spaced)].exists and found[str(spaced)].is_directory and found[str(spaced)].mode == 0o750
    assert not found[missing].exists
    assert found[odd].exists and found[odd].size == 1
    assert found["/proc"].mount_point


def test_one_grep_names_each_process_or_gone() -> None:
    gone = 4_194_303  # above any pid_max this machine allows by default
    own = os.getpid()
    found = listeners.parse_cgroups(_sh(listeners.cgroups_command([own, gone])), [own, gone])
    expected = next((line for line in Path(f"/proc/{own}/cgroup").read_text().splitlines()
                     if line.startswith("0::") or "name=systemd" in line), None)
    assert found[gone] == "gone"
    assert found[own] == (expected.rsplit(":", 1)[-1] if expected else "gone")


class _Log:
    def __init__(self, text: str) -> None:
        self.text = text

    def run(self, command: str):  # testinfra's result shape, enough for lookup
        return type("Result", (), {"stdout": self.text})()


def test_lookup_gives_each_request_its_entry_or_its_own_error() -> None:
    line = ('172.19.0.1 - - [24/Nov/2026:05:25:58 +0000] "GET /x HTTP/1.1" 200 1 "-" "deploycheck/0.1.0 dc-1" "-" '
            '0.021 MISS 172.18.0.4:80\nnot a log line "deploycheck/0.1.0 dc-2"\n')
    first, second, third = lookup(_Log(line), "/log", ["dc-1", "dc-2", "dc-3"], deadline_s=0.1)
    assert isinstance(first, LogEntry) and first.cache == "MISS" and first.upstream == "172.18.0.4:80"
    assert isinstance(second, LogLineNotFoundError) and "unknown format" in str(second)
    assert isinstance(third, LogLineNotFoundError) and "dc-3" in str(third)


def test_a_worker_adopts_only_a_run_id_of_the_right_shape(monkeypatch) -> None:
    monkeypatch.setattr(http, "RUN_ID", "0123456789ab")
    for bad in (None, 12, "", "0123456789AB", "0123456789abc", "x; rm -rf /", "../../etc"):
        http.adopt_run_id(bad)
        assert http.RUN_ID == "0123456789ab"
    http.adopt_run_id("fedcba987654")
    assert http.RUN_ID == "fedcba987654"
