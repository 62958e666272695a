"""The `omero config` stand-in answers as omero-py's prefs plugin does:
masked passwords, merging loads that stop on illegal names and conflicts
without writing, --source on a scratch file."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures" / "idr" / "standins"))
from idrstub import cli


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    env = tmp_path / "omero.env"
    env.write_text("OMERO_DB_USER=omero\nOMERO_DB_PASS=s3cret\nOMERO_DATA_DIR=/data/OMERO\n")
    monkeypatch.setattr(cli, "ENV_FILE", env)
    return env


def test_get_masks_passwords_unless_asked(live: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["config", "get"]) == 0
    assert capsys.readouterr().out.splitlines() == ["omero.data.dir=/data/OMERO", "omero.db.pass=********",
                                                    "omero.db.user=omero"]
    cli.main(["config", "get", "--show-password"])
    assert "omero.db.pass=s3cret" in capsys.readouterr().out
    cli.main(["config", "get", "omero.db.pass"])  # one key: its bare value, unmasked
    assert capsys.readouterr().out == "s3cret\n"


def test_load_into_a_scratch_source(live: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scratch, backup = tmp_path / "scratch.xml", tmp_path / "omero.config"
    assert cli.main(["config", "--source", str(scratch), "get"]) == 124
    assert "File not found" in capsys.readouterr().err
    scratch.touch()
    backup.write_text("# saved\nomero.db.user=omero\nomero.a=x\\\n  y\nomero.flag\n\nomero.url=http://h/?a=b\n")
    assert cli.main(["config", "--source", str(scratch), "load", str(backup)]) == 0
    cli.main(["config", "--source", str(scratch), "get"])
    assert capsys.readouterr().out.splitlines() == ["omero.a=xy", "omero.db.user=omero", "omero.flag=",
                                                    "omero.url=http://h/?a=b"]


def test_load_stops_without_writing(live: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scratch = tmp_path / "scratch.xml"
    scratch.touch()
    first, conflict, illegal = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    first.write_text("A=B\n")
    conflict.write_text("A=C\nD=E\n")
    illegal.write_text("E = F\n")
    assert cli.main(["config", "--source", str(scratch), "load", str(first)]) == 0
    assert cli.main(["config", "--source", str(scratch), "load", str(conflict)]) == 502 % 256
    assert "Duplicate property: A ('B' => 'C')" in capsys.readouterr().err
    assert cli.main(["config", "--source", str(scratch), "load", str(illegal)]) == 506 % 256
    assert "Illegal property name: E " in capsys.readouterr().err
    cli.main(["config", "--source", str(scratch), "get"])
    assert capsys.readouterr().out == "A=B\n"
    assert cli.main(["config", "--source", str(scratch), "load", "-q", str(conflict)]) == 0
    assert cli.main(["config", "load", str(first)]) == 333 % 256  # the server's own configuration is read-only
