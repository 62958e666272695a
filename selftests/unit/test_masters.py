"""One SSH login per host per run: the controller's connections are shared
with the workers only through a private folder; a host behind a jump host
that is being opened waits for it; a worker's shell waits for the master
that is logging in, never longer than its connect deadline."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from deploycheck import plugin
from deploycheck.inventory import connection
from deploycheck.inventory.loader import InventoryError, Node
from deploycheck.transport import masters, sshstate
from deploycheck.transport.shell import PersistentShell, ShellClosedError, failure_note


@pytest.fixture
def own_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A private control folder for the test, and no sharing left behind."""
    folder = tmp_path / "control"
    folder.mkdir(mode=0o700)
    monkeypatch.setattr(sshstate, "_SHARED", [])
    monkeypatch.setattr(sshstate, "_make_control_dir", lambda: folder)
    sshstate.SETTINGS.cache_clear()
    connection._jump.cache_clear()
    return folder


def _hosts(tmp_path: Path) -> tuple[Node, Node]:
    config = tmp_path / "ssh_config"
    config.write_text("Host bastion\n  HostName 192.0.2.10\nHost inner\n  ProxyJump bastion\n")
    common = {"ansible_ssh_common_args": f"-F {config}"}
    return Node("bastion", dict(common)), Node("inner", dict(common))


def test_shared_folder_must_be_private(own_folder: Path, tmp_path: Path) -> None:
    loose = tmp_path / "loose"
    loose.mkdir()
    loose.chmod(0o755)
    with pytest.raises(InventoryError):
        sshstate.share_control_dir(loose)
    plain = tmp_path / "file"
    plain.write_text("")
    with pytest.raises(InventoryError):
        sshstate.share_control_dir(plain)
    assert not sshstate.sharing_control_dir()


def test_inner_host_rides_its_jump_host(own_folder: Path, tmp_path: Path) -> None:
    bastion, inner = _hosts(tmp_path)
    assert masters.marker_of(inner, jump=True) == masters.marker_of(bastion)
    assert masters.marker_of(bastion).parent == own_folder
    log: list[tuple[str, str, float]] = []
    lock = threading.Lock()

    def connect(node: Node) -> None:
        with lock:
            log.append((node.name, "start", time.monotonic()))
        if node.name == "bastion":
            time.sleep(0.3)
        with lock:
            log.append((node.name, "end", time.monotonic()))

    threads = masters.open_connections([inner, bastion], connect)
    for thread in threads:
        thread.join(timeout=10)
    times = {(name, what): at for name, what, at in log}
    assert times[("inner", "start")] >= times[("bastion", "end")]
    assert not list(own_folder.glob("*" + masters.MARKER_SUFFIX))  # every marker gone once opened


def test_marker_goes_when_login_fails(own_folder: Path, tmp_path: Path) -> None:
    bastion, _ = _hosts(tmp_path)

    def refuse(node: Node) -> str:
        return f"{node.name}: unreachable (no route)"  # as transport.remote.reachability reports it

    for thread in masters.open_connections([bastion], refuse):
        thread.join(timeout=10)
    assert not list(own_folder.glob("*" + masters.MARKER_SUFFIX))
    marker = masters.marker_of(bastion)
    assert failure_note(marker).read_text() == "no route\n"  # the cause, for the workers


def test_a_worker_reports_the_failed_login_at_once(tmp_path: Path) -> None:
    marker = tmp_path / "socket.opening"
    failure_note(marker).write_text("ssh: connect to host 192.0.2.10 port 22: Connection timed out\n")
    shell = PersistentShell(["sleep", "30"], "far", awaited=marker)  # would hang if it were started
    started = time.monotonic()
    with pytest.raises(ShellClosedError, match="Connection timed out"):
        shell.run("true", timeout=20)
    assert time.monotonic() - started < 2
    shell.close()


def test_a_worker_marks_nothing(own_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bastion, inner = _hosts(tmp_path)
    monkeypatch.setattr(sshstate, "_SHARED", [own_folder])
    seen: list[str] = []
    for thread in masters.open_connections([bastion, inner], lambda n: seen.append(n.name), others_too=True):
        thread.join(timeout=10)
    assert sorted(seen) == ["bastion", "inner"]
    assert not list(own_folder.iterdir())
    assert masters.awaited_marker(bastion) == masters.marker_of(bastion)


def test_shell_waits_for_the_master_then_connects(tmp_path: Path) -> None:
    marker = tmp_path / "socket.opening"
    marker.touch()
    shell = PersistentShell(["/bin/sh"], "waiting", awaited=marker)
    threading.Timer(0.3, marker.unlink).start()
    started = time.monotonic()
    try:
        assert shell.run("echo up", timeout=10)[:2] == (0, b"up\n")
    finally:
        shell.close()
    assert time.monotonic() - started >= 0.3


def test_shell_waits_no_longer_than_its_deadline(tmp_path: Path) -> None:
    marker = tmp_path / "socket.opening"
    marker.touch()  # a master that never finishes
    shell = PersistentShell(["/bin/sh"], "stale", awaited=marker)
    started = time.monotonic()
    try:
        assert shell.run("true", timeout=0.5)[0] == 0
    finally:
        shell.close()
    assert time.monotonic() - started < 5
    assert os.path.exists(marker)


class _Config:
    """What the worker-count hook reads of pytest's config: the stash the plugin filled."""

    def __init__(self, inventory: object) -> None:
        self.stash = pytest.Stash()
        self.stash[plugin.LOADED_KEY] = None
        self.stash[plugin.INVENTORY_KEY] = inventory


def _inventory(*hosts: Node) -> object:
    return type("Inv", (), {"hosts": {h.name: h for h in hosts}})()


def test_auto_workers_one_more_than_cpus_for_ssh_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_AUTO_NUM_WORKERS", raising=False)
    far = _Config(_inventory(Node("proxy", {}), Node("box", {"ansible_connection": "docker"})))
    near = _Config(_inventory(Node("box", {"ansible_connection": "docker"})))
    assert plugin.pytest_xdist_auto_num_workers(far) == (os.cpu_count() or 1) + 1
    assert plugin.pytest_xdist_auto_num_workers(near) is None  # pytest-xdist's own count
    monkeypatch.setenv("PYTEST_XDIST_AUTO_NUM_WORKERS", "5")
    assert plugin.pytest_xdist_auto_num_workers(far) is None  # the user's count stands
