"""Facts asked ahead: answers stored once are what controls read, a control
waits for answers on their way instead of asking twice, and independent
requests sent together come back in order."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from deploycheck.facts import hostfacts
from deploycheck.facts.accesslog import LogLineNotFoundError, entries_for
from deploycheck.inventory.loader import Node
from deploycheck.transport.together import at_once

ROOT = Path(__file__).resolve().parents[2]
LINE = ('172.19.0.1 - - [24/Nov/2026:05:25:58 +0000] "GET /x HTTP/1.1" 200 1013 "-" "deploycheck/0.1.0 {m}" "-" '
        '0.021 {cache} 172.18.0.4:80')


def test_stored_answers_are_read_without_asking_the_host() -> None:
    node = Node("unit-stored", {"ansible_connection": "docker"})  # no such container: asking would fail
    hostfacts.store(node, {"ss -Htlnp": (0, "LISTEN 0 0 0.0.0.0:80 0.0.0.0:* users:((\"nginx\",pid=7,fd=6))", "")})
    assert hostfacts.output(node, "ss -Htlnp").startswith("LISTEN")
    hostfacts.store(node, {"ss -Htlnp": (1, "", "later")})  # the first answer stays
    assert hostfacts.command(node, "ss -Htlnp")[0] == 0
    hostfacts.forget(node)
    assert not hostfacts.known(node, "ss -Htlnp")


def test_a_control_waits_for_answers_on_their_way() -> None:
    node = Node("unit-waits", {"ansible_connection": "docker"})
    done = hostfacts.asking_ahead(node)

    def answer_later() -> None:
        time.sleep(0.2)
        hostfacts.store(node, {"hostname -I": (0, "10.0.0.5\n", "")})
        done.set()

    threading.Thread(target=answer_later).start()
    assert hostfacts.addresses(node) == ["10.0.0.5"]


def test_at_once_keeps_order_and_overlaps_the_waits() -> None:
    started = time.monotonic()
    assert at_once(lambda x: (time.sleep(0.2), x * 2)[1], range(6)) == [0, 2, 4, 6, 8, 10]
    assert time.monotonic() - started < 1.0  # six waits of 0.2 s overlapped, not added


def test_at_once_raises_the_first_error_after_all_ended() -> None:
    ended = []

    def call(x: int) -> int:
        time.sleep(0.05 * x)
        ended.append(x)
        if x == 1:
            raise ValueError("one")
        return x

    with pytest.raises(ValueError, match="one"):
        at_once(call, range(4))
    assert sorted(ended) == [0, 1, 2, 3]


class _Log:
    """A host whose access log gains lines as it is read."""

    def __init__(self, batches: list[list[str]]) -> None:
        self.batches, self.commands = batches, []

    def run(self, command: str):
        self.commands.append(command)
        lines = self.batches.pop(0) if len(self.batches) > 1 else self.batches[0]
        return type("R", (), {"stdout": "\n".join(lines) + "\n"})()


def test_entries_for_reads_several_requests_in_one_command() -> None:
    log = _Log([[LINE.format(m="dc-1", cache="MISS"), LINE.format(m="dc-2", cache="HIT")]])
    entries = entries_for(log, "/var/log/nginx/access.log", ["dc-1", "dc-2"])
    assert [e.cache for e in entries] == ["MISS", "HIT"]
    assert len(log.commands) == 1 and "-e 'dc-1\"'" in log.commands[0]


def test_entries_for_waits_for_the_late_line_and_never_confuses_markers() -> None:
    log = _Log([[LINE.format(m="dc-10", cache="HIT")],
                [LINE.format(m="dc-10", cache="HIT"), LINE.format(m="dc-1", cache="MISS")]])
    assert [e.cache for e in entries_for(log, "/log", ["dc-1", "dc-10"])] == ["MISS", "HIT"]
    with pytest.raises(LogLineNotFoundError, match="dc-3"):
        entries_for(_Log([[LINE.format(m="dc-1", cache="MISS")]]), "/log", ["dc-1", "dc-3"], deadline_s=0.2)


def test_java_versions_as_java_prints_them() -> None:
    from deploycheck.facts.java import Runtime

    assert [Runtime("/usr/bin/java", v, True).major for v in ("17.0.15", "11.0.2", "1.8.0_392", "21", "17-ea")] == \
        [17, 11, 8, 21, 17]


def test_a_java_version_without_a_release_number_is_too_old_not_an_error() -> None:
    from deploycheck.facts.java import Runtime

    assert [Runtime("/usr/bin/java", v, True).major for v in ("internal", "1.x", "-1")] == [0, 0, 0]


def test_an_observed_page_is_one_fixed_read_only_command() -> None:
    from deploycheck.transport.hostcurl import observation_command

    assert observation_command("http://127.0.0.1:80/x") == observation_command("http://127.0.0.1:80/x")
    assert "-X OPTIONS" in observation_command("http://127.0.0.1:8081/", "OPTIONS")
    with pytest.raises(ValueError, match="read-only"):
        observation_command("http://127.0.0.1:80/x", "POST")


def test_connections_open_early_only_for_the_whole_suite(tmp_path: Path) -> None:
    """Before collection, connections open only when every host will be
    checked; a run narrowed by -k, --control or to a file connects once collected."""
    from types import SimpleNamespace

    from deploycheck import plugin

    def config(keyword: str = "", args: tuple[str, ...] = (str(ROOT / "tests"),), workers: object = None,
               worker: bool = False, control: tuple[str, ...] = ()) -> SimpleNamespace:
        option = SimpleNamespace(keyword=keyword, collectonly=False, numprocesses=workers, control=list(control))
        made = SimpleNamespace(option=option, args=list(args))
        if worker:
            made.workerinput = {}
        return made

    assert plugin._whole_suite(config()) and plugin._runs_controls(config())
    assert not plugin._whole_suite(config(keyword="IDR-CACHE"))
    assert not plugin._whole_suite(config(control=("IDR-CACHE",)))
    assert not plugin._whole_suite(config(args=(str(ROOT / "tests" / "idr" / "test_cache.py"),)))
    assert not plugin._runs_controls(config(workers=2))  # the xdist controller runs no control
    assert plugin._runs_controls(config(workers=2, worker=True))


@pytest.mark.skipif(__import__("shutil").which("nc") is None, reason="needs nc")
def test_outside_probes_asked_at_once_answer_as_each_probe_would() -> None:
    """One command probes every target at once; each target's answer is kept
    under its own probe, and equals what that probe finds alone (loopback)."""
    import socket

    from deploycheck.facts import probe

    vantage = Node("unit-vantage", {"ansible_connection": "local"})
    with socket.socket() as listening, socket.socket() as spare:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        spare.bind(("127.0.0.1", 0))  # bound, not listening: closed
        open_port, closed_port = listening.getsockname()[1], spare.getsockname()[1]
        targets = [("127.0.0.1", [closed_port, open_port]), ("localhost", [closed_port])]
        try:
            probe.ask_ahead(vantage, targets)
            for address, ports in targets:
                assert hostfacts.known(vantage, probe.ports_command(address, ports))
            assert probe.reachable_ports(vantage, "127.0.0.1", [closed_port, open_port]) == [open_port]
            assert probe.reachable_ports(vantage, "localhost", [closed_port]) == []
            hostfacts.forget(vantage)
            assert probe.reachable_ports(vantage, "127.0.0.1", [closed_port, open_port]) == [open_port]  # asked alone
        finally:
            hostfacts.forget(vantage)


def test_an_outside_probe_without_nc_fails_instead_of_finding_every_port_closed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A vantage point without nc answers nothing: asked ahead, nothing is
    stored; asked by the control, the probe fails rather than pass unchecked."""
    import shutil

    from deploycheck.facts import probe

    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("sh", "sed"):
        (tools / tool).symlink_to(shutil.which(tool) or f"/bin/{tool}")
    monkeypatch.setenv("PATH", str(tools))  # the vantage's shell finds no nc
    vantage = Node("unit-no-nc", {"ansible_connection": "local"})
    try:
        probe.ask_ahead(vantage, [("127.0.0.1", [9])])
        assert not hostfacts.known(vantage, probe.ports_command("127.0.0.1", [9]))
        with pytest.raises(AssertionError, match="nc not found"):
            probe.reachable_ports(vantage, "127.0.0.1", [9])
    finally:
        hostfacts.forget(vantage)


def test_facts_not_asked_ahead_are_asked_together(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands a control reads that the warm-up did not ask (a run narrowed
    by -k) cost one exchange together, then are answered from memory."""
    node = Node("together", {"ansible_connection": "local"})
    asked: list[list[str]] = []

    def one_exchange(host: Node, cmds: list[str], ahead: bool = True) -> list[tuple[int, str, str]]:
        asked.append(list(cmds))
        return [(0, f"{c}\n", "") for c in cmds]

    monkeypatch.setattr(hostfacts, "run_many", one_exchange)
    monkeypatch.setattr(hostfacts, "reachability", lambda host: None)
    hostfacts.store(node, {"known": (0, "from memory\n", "")})
    try:
        assert hostfacts.commands(node, ["a", "known", "b", "a"]) == [
            (0, "a\n", ""), (0, "from memory\n", ""), (0, "b\n", ""), (0, "a\n", "")]
        assert hostfacts.commands(node, ["b", "a"]) == [(0, "b\n", ""), (0, "a\n", "")]
        assert asked == [["a", "b"]]
    finally:
        hostfacts.forget(node)
