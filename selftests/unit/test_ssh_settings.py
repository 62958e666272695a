"""Workers take ssh's resolution of each host's configuration from the
controller instead of starting ``ssh -G`` per host themselves (at 16
servers that was some 60 programs while the run starts and CPU is scarcest)."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploycheck.transport import sshstate
from deploycheck.transport.sshstate import SshSettings


def test_a_worker_asks_ssh_nothing_the_controller_resolved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "ssh_config"
    config.write_text("Host inner\n  ProxyJump bastion\n  User ops\n")
    controller = SshSettings()
    options = ("-F", str(config), "-o", "BatchMode=yes")
    resolved = controller(options, "inner")
    assert resolved["proxyjump"] == "bastion" and resolved["user"] == "ops"

    def no_ssh(*_: object) -> dict[str, str]:
        raise AssertionError("the worker started ssh -G")

    monkeypatch.setattr(sshstate, "_ssh_g", no_ssh)
    worker = SshSettings()
    worker.adopt(controller.known())
    assert worker(options, "inner") == resolved
    with pytest.raises(AssertionError, match="started ssh -G"):
        worker(options, "other")  # what the controller did not resolve, the worker resolves itself


@pytest.mark.parametrize("entries", [
    None, "x", [["-F"], "h", {}], [[["-F"], "h", {"user": 1}]], [[["-F", 2], "h", {}]], [[("-F",), "h", {}]],
    [[["-F"], None, {}]], [[["-F"], "h"]],
])
def test_anything_not_shaped_like_a_resolution_is_ignored(entries: object) -> None:
    settings = SshSettings()
    settings.adopt(entries)
    assert settings.known() == []


def test_a_resolution_already_made_is_kept() -> None:
    settings = SshSettings()
    settings.adopt([[["-F", "a"], "h", {"user": "ops"}]])
    settings.adopt([[["-F", "a"], "h", {"user": "root"}]])
    assert settings.known() == [[["-F", "a"], "h", {"user": "ops"}]]
