"""Hosts behind a jump host share this process's connection to it: the hop
ssh's configuration names is rebuilt as a ProxyCommand over the ControlPath,
with every %-token of ours escaped and nothing from the configuration taken
as an option."""

from __future__ import annotations

import shlex
from pathlib import Path

from deploycheck.inventory.connection import CONNECTIONS, _shared_jump
from deploycheck.inventory.loader import Node


def _argv(tmp_path: Path, config: str, name: str = "inner") -> list[str]:
    cfg = tmp_path / "ssh_config"
    cfg.write_text(config)
    _shared_jump.cache_clear()
    return CONNECTIONS["ssh"].shell_argv(Node(name, {"ansible_ssh_common_args": f"-F {cfg}"}))


def _proxy_command(argv: list[str]) -> str | None:
    found = [a for a in argv if a.startswith("ProxyCommand=")]
    return found[0].removeprefix("ProxyCommand=") if found else None


def test_one_jump_becomes_a_shared_proxy_command(tmp_path: Path) -> None:
    command = _proxy_command(_argv(tmp_path, "Host inner\n  ProxyJump ops@bastion:2222\n"))
    assert command is not None
    words = shlex.split(command)
    assert words[:3] == ["ssh", "-F", str(tmp_path / "ssh_config")]
    assert words[-4:] == ["-W", "[%h]:%p", "--", "bastion"]
    assert words[words.index("-l"):words.index("-l") + 2] == ["-l", "ops"]
    assert words[words.index("-p"):words.index("-p") + 2] == ["-p", "2222"]
    assert any(w.startswith("ControlPath=") and w.endswith("/%%C") for w in words)  # ssh expands it once, for the hop
    assert "-o" in words and "BatchMode=yes" in words


def test_no_jump_chain_or_own_proxy_command_is_left_alone(tmp_path: Path) -> None:
    assert _proxy_command(_argv(tmp_path, "Host inner\n  HostName 10.0.0.9\n")) is None
    assert _proxy_command(_argv(tmp_path, "Host inner\n  ProxyJump a,b\n")) is None
    assert _proxy_command(_argv(tmp_path, "Host inner\n  ProxyCommand nc %h %p\n")) is None


def test_a_jump_that_looks_like_an_option_is_refused(tmp_path: Path) -> None:
    assert _proxy_command(_argv(tmp_path, "Host inner\n  ProxyJump -oProxyCommand=touch_x\n")) is None
    assert _proxy_command(_argv(tmp_path, "Host inner\n  ProxyJump bastion:22x\n")) is None


def test_quotes_survive_the_shell(tmp_path: Path) -> None:
    odd = tmp_path / "dir with space;$(x)"
    odd.mkdir()
    cfg = odd / "ssh_config"
    cfg.write_text("Host inner\n  ProxyJump bastion\n")
    _shared_jump.cache_clear()
    argv = CONNECTIONS["ssh"].shell_argv(Node("inner", {"ansible_ssh_common_args": shlex.join(["-F", str(cfg)])}))
    command = _proxy_command(argv)
    assert command is not None and shlex.split(command)[2] == str(cfg)
