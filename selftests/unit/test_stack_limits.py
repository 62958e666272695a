"""The stacks' start makes room for every systemd host's inotify instances
before a shortfall can fail units at boot."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploycheck import stack


@pytest.fixture
def limit_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "max_user_instances"
    monkeypatch.setattr(stack, "INOTIFY_INSTANCES", path)
    return path


def test_raises_a_low_limit_as_root(limit_file: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    limit_file.write_text("128\n")
    monkeypatch.setattr(stack.os, "geteuid", lambda: 0)
    stack.ensure_inotify_room(200)
    assert int(limit_file.read_text()) == 200 * stack.INOTIFY_PER_HOST
    assert "from 128 to 1600" in capsys.readouterr().out


def test_keeps_a_higher_limit(limit_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    limit_file.write_text("8192\n")
    monkeypatch.setattr(stack.os, "geteuid", lambda: 0)
    stack.ensure_inotify_room(45)
    assert limit_file.read_text() == "8192\n"


def test_without_root_says_how(limit_file: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    limit_file.write_text("128\n")
    monkeypatch.setattr(stack.os, "geteuid", lambda: 1000)
    stack.ensure_inotify_room(45)
    assert limit_file.read_text() == "128\n"
    assert "sysctl -w fs.inotify.max_user_instances=1024" in capsys.readouterr().out
