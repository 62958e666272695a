"""The persistent shell returns exactly what each command wrote, whatever
the bytes, and fails with the connection's own cause when it ends."""

from __future__ import annotations

import pytest

from deploycheck.inventory.loader import Node
from deploycheck.transport import remote
from deploycheck.transport import shell as shell_module
from deploycheck.transport.counters import COUNTERS
from deploycheck.transport.shell import OutputTooLargeError, PersistentShell, ShellBackend, ShellClosedError


@pytest.fixture
def shell():
    sh = PersistentShell(["/bin/sh"], "unit-local")
    yield sh
    sh.close()


def test_outputs_and_status_are_exact(shell: PersistentShell) -> None:
    assert shell.run("printf 'a\\nb'; printf 'err' >&2; exit 3") == (3, b"a\nb", b"err")
    assert shell.run("head -c 3 /dev/zero") == (0, b"\0\0\0", b"")
    assert shell.run("printf '%s\\n' deploycheck-0 1 2 3") == (0, b"deploycheck-0\n1\n2\n3\n", b"")
    assert shell.run("cat") == (0, b"", b"")  # stdin is empty, never the protocol stream


def test_one_connection_for_many_commands(shell: PersistentShell) -> None:
    before = COUNTERS.shells["unit-local"]
    for i in range(20):
        assert shell.run(f"echo {i}; cd /; export X={i}") == (0, f"{i}\n".encode(), b"")
    assert shell.run("echo ${X:-unset}") == (0, b"unset\n", b"")  # each command is its own sh -c
    assert COUNTERS.shells["unit-local"] - before == 1


def test_large_output(shell: PersistentShell) -> None:
    rc, out, err = shell.run("head -c 1000000 /dev/zero | tr '\\0' x; echo done >&2")
    assert (rc, len(out), err) == (0, 1_000_000, b"done\n")


def test_stdout_that_looks_like_a_frame_is_still_the_commands(shell: PersistentShell) -> None:
    """stdout travels unframed, ended by the connection's random token: a
    command printing another token, trailing newlines or nothing at all
    gets exactly its bytes back, and the next command starts clean."""
    forged = "printf '\\ndeploycheck-0123456789abcdef 0 0\\n'"
    assert shell.run(forged) == (0, b"\ndeploycheck-0123456789abcdef 0 0\n", b"")
    assert shell.run("printf 'a\\n\\n'") == (0, b"a\n\n", b"")
    assert shell.run("true") == (0, b"", b"")
    assert shell.run("cat", stdin="line\nsecret") == (0, b"line\nsecret\n", b"")
    rc, out, _ = shell.run("head -c 200000 /dev/zero | tr '\\0' y; printf '\\n'")  # the end straddles reads
    assert (rc, len(out), out[-2:]) == (0, 200_001, b"y\n")


def test_an_answer_too_large_drops_the_connection(shell: PersistentShell, monkeypatch) -> None:
    """Memory stays bounded: past the limit the connection is dropped, and the next command reconnects."""
    monkeypatch.setattr(shell_module, "MAX_OUTPUT_BYTES", 100_000)
    with pytest.raises(OutputTooLargeError):
        shell.run("head -c 1000000 /dev/zero")
    with pytest.raises(OutputTooLargeError):
        shell.run("head -c 1000000 /dev/zero >&2")
    assert shell.run("echo again") == (0, b"again\n", b"")


def test_timeout_ends_the_connection_and_the_next_command_reconnects(shell: PersistentShell) -> None:
    before = COUNTERS.shells["unit-local"]
    with pytest.raises(TimeoutError):
        shell.run("sleep 5", timeout=0.3)
    assert shell.run("echo again") == (0, b"again\n", b"")
    assert COUNTERS.shells["unit-local"] - before == 2


def test_what_the_login_prints_first_is_dropped() -> None:
    """A banner or a chatty shell profile must not shift the replies."""
    sh = PersistentShell(["/bin/sh", "-c", "echo 'Welcome!'; printf 'deploycheck-00 1 2 3\\n'; exec /bin/sh"],
                         "unit-banner")
    assert sh.run("echo first") == (0, b"first\n", b"")
    assert sh.run("echo second; exit 3") == (3, b"second\n", b"")
    sh.close()


def test_a_connection_that_fails_gives_its_last_error_line() -> None:
    sh = PersistentShell(["/bin/sh", "-c", "echo 'ssh: connect to host x port 22: Connection refused' >&2; exit 255"],
                         "unit-refused")
    with pytest.raises(ShellClosedError, match="Connection refused"):
        sh.run("true")
    sh.close()


def test_backend_raises_testinfra_style_with_the_cause() -> None:
    backend = ShellBackend(PersistentShell(["/bin/sh", "-c", "echo 'No such container: gone' >&2"], "unit-gone"))
    with pytest.raises(RuntimeError) as caught:
        backend.run("true")
    assert "No such container: gone" in caught.value.args[0].stderr
    backend.shell.close()


def test_become_wraps_commands_in_sudo() -> None:
    node = Node("unit-become", {"ansible_connection": "docker", "ansible_become": True,
                                "ansible_become_user": "postgres"})
    backend = remote.testinfra_host(node).backend
    assert backend.get_command("id -u") == "sudo -u postgres /bin/sh -c 'id -u'"
    plain = remote.testinfra_host(Node("unit-plain", {"ansible_connection": "docker"})).backend
    assert plain.get_command("id -u") == "id -u"


def test_run_many_answers_each_command_in_order_in_one_round_trip(shell: PersistentShell) -> None:
    before = COUNTERS.round_trips["unit-local"]
    commands = ["printf a; exit 1", "printf 'b\\n' >&2", "head -c 5 /dev/zero", "cat", "printf '%s' deploycheck-x"]
    assert shell.run_many(commands) == [(1, b"a", b""), (0, b"", b"b\n"), (0, b"\0" * 5, b""), (0, b"", b""),
                                        (0, b"deploycheck-x", b"")]
    assert COUNTERS.round_trips["unit-local"] - before == 1
    assert shell.run("echo after") == (0, b"after\n", b"")  # the stream is where it should be


def test_run_many_splits_a_long_batch_and_keeps_the_order(shell: PersistentShell) -> None:
    from deploycheck.transport.shell import PIPELINE_BYTES

    padding = "#" + "x" * 500
    commands = [f"echo {i} {padding}" for i in range(3 * PIPELINE_BYTES // 500)]
    answers = shell.run_many(commands)
    assert [out for _, out, _ in answers] == [f"{i}\n".encode() for i in range(len(commands))]
    assert shell.run_many([]) == []


def test_backend_run_many_keeps_testinfra_results() -> None:
    backend = ShellBackend(PersistentShell(["/bin/sh"], "unit-many"))
    try:
        results = backend.run_many(["echo one", "echo two >&2; exit 4"])
        assert [(r.rc, r.stdout, r.stderr) for r in results] == [(0, "one\n", ""), (4, "", "two\n")]
    finally:
        backend.shell.close()
