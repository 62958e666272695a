"""The one-program facts (one stat for many paths, one grep for many
cgroups) read exactly what the per-item loops they replace read, here on
this machine's own files and processes; a Java runtime's version comes
from its JDK's release file without starting a JVM, and from ``-version``
where there is no such file; accesslog.lookup gives every
request its own entry or error; worker processes adopt only a run id of
the right shape."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from deploycheck.facts import hostfacts, java, listeners
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


def _jdk(root: Path, release: str | None, prints: str, bin_dir: str = "bin") -> Path:
    """A JDK tree whose java only echoes a version (and leaves a mark when it runs)."""
    exe = root / bin_dir / "java"
    exe.parent.mkdir(parents=True)
    exe.write_text(f"#!/bin/sh\ntouch {root}/ran\necho 'openjdk version \"{prints}\"' >&2\n")
    exe.chmod(0o755)
    if release is not None:
        (root / "release").write_text(f'IMPLEMENTOR="Debian"\n{release}\nOS_NAME="Linux"\n')
    return exe


def _version(text: str) -> str | None:
    found = re.search(r'version "([^"]+)"', text)
    return found.group(1) if found else None


def test_java_version_from_the_release_file_without_starting_java(tmp_path: Path) -> None:
    exe = _jdk(tmp_path / "jdk-17", 'JAVA_VERSION="17.0.19"', "17.0.19")
    link = tmp_path / "default-java"
    link.symlink_to(exe)  # the release file is found beside the real binary, not the link
    assert _version(_sh(java.version_command(str(link)))) == "17.0.19"
    assert not (tmp_path / "jdk-17" / "ran").exists()
    jre8 = _jdk(tmp_path / "jdk-8", 'JAVA_VERSION="1.8.0_392"', "1.8.0_392", bin_dir="jre/bin")
    assert _version(_sh(java.version_command(str(jre8)))) == "1.8.0_392"  # Java 8: the file is above jre/


def test_java_version_falls_back_to_running_java(tmp_path: Path) -> None:
    """No release file (a bare runtime, a wrapper script), or one without
    JAVA_VERSION: the runtime is asked itself; a missing java says nothing."""
    bare = _jdk(tmp_path / "opt-jre8", None, "1.8.0_392")
    assert _version(_sh(java.version_command(str(bare)))) == "1.8.0_392"
    assert (tmp_path / "opt-jre8" / "ran").exists()
    odd = _jdk(tmp_path / "odd", 'JAVA_RUNTIME_VERSION="11"', "11.0.2")
    assert _version(_sh(java.version_command(str(odd)))) == "11.0.2"
    assert _version(_sh(java.version_command(str(tmp_path / "none" / "bin" / "java")))) is None
    home = tmp_path / "home"
    _jdk(home, 'JAVA_VERSION="21.0.2"', "21.0.2")
    first, _, rest = _sh(java.started_command(str(home))).partition("\n")
    assert first == f"{home}/bin/java" and _version(rest) == "21.0.2"
