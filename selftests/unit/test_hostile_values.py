"""Values from the inventory and answers from remote sites never steer
deploycheck to another host, run code, or exhaust the controller: URL paths
stay on their base's host, curl never globs or reads a URL as an option,
command templates get their values as parameters, hashes and bodies are
bounded, host names in the jump ProxyCommand are names."""

from __future__ import annotations

import hashlib
import re
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from deploycheck.facts import omeroweb, publicsession
from deploycheck.facts.web2pyadmin import CannotCheckError, StoredPassword
from deploycheck.inventory.loader import Node, load
from deploycheck.inventory.urlpath import join
from deploycheck.inventory.variables import validate
from deploycheck.transport import compose, hostcurl, http
from deploycheck.transport.shelltemplate import TemplateError, fill

ROOT = Path(__file__).resolve().parents[2]


def _problems(tmp_path: Path, host_vars: str) -> list[str]:
    path = tmp_path / "inv.yml"
    path.write_text(f"all:\n  hosts:\n    h:\n      ansible_connection: local\n{host_vars}")
    return validate(load([path]))


@pytest.mark.parametrize(("name", "value"), [
    ("longquery_probe_path", "'@169.254.169.254/latest'"), ("public_entry_path", "'//evil.example/x'"),
    ("germline_paths", "['/ok.fa', '/a b']"), ("ready_urls", "['@169.254.169.254/latest']"),
    ("ready_urls", "['ftp://x/y']"), ("longquery_probe_path", "'/x?next=http://evil.example/'"),
    ("public_entry_path", "'/a\\\\b'"), ("public_url", "'http://proxy/a\\tb'"),
    ("binary_restore_sample", "'../../etc'"), ("binary_restore_sample", "'/Pixels/1'"),
    ("binary_restore_sample", "'Pixels/./1'")])
def test_hostile_paths_are_refused_at_load(tmp_path: Path, name: str, value: str) -> None:
    problems = _problems(tmp_path, f"      {name}: {value}\n")
    assert [p for p in problems if p.startswith(f"variable {name} of h holds ")], problems
    assert all("\n" not in p for p in problems)


def test_good_paths_pass(tmp_path: Path) -> None:
    assert _problems(tmp_path, "      longquery_probe_path: /api/v0/slow_report/1.5/?a=b&c=@d\n"
                               "      ready_urls: ['/webgateway/render_image_region/1/0/0/?c=1', 'https://x:8443/']\n"
                               "      binary_restore_sample: Pixels/1\n"
                               "      public_url: 'http://127.0.0.1:8080'\n") == []


@pytest.mark.parametrize("path", ["@169.254.169.254/latest", "//evil.example/x", "/a b", "x"])
def test_a_path_cannot_leave_the_base_host(path: str) -> None:
    with pytest.raises(ValueError, match="refused"):
        hostcurl.loopback_url(9000, path)
    assert join("http://127.0.0.1:9000", "/x/@y") == "http://127.0.0.1:9000/x/@y"


def test_the_http_client_refuses_a_request_for_another_host() -> None:
    client = http.Client("http://127.0.0.1:9")
    with pytest.raises(ValueError, match="would leave http://127.0.0.1:9"):
        client.get("@169.254.169.254/latest")


def _curl_lines() -> list[str]:
    """Every curl command line the suite writes, as its source spells it."""
    lines = []
    for path in [*(ROOT / "deploycheck").rglob("*.py"), *(ROOT / "tests").rglob("*.py")]:
        lines += [m.group(0) for m in re.finditer(r"""["'(]curl\b[^\n]*""", path.read_text())]
    return lines


def test_every_curl_globs_nothing_and_takes_its_url_after_url() -> None:
    built = [hostcurl._command("http://127.0.0.1:9/{a,b}[1-9]", "GET", 5, None, False)[0],
             hostcurl.observation_command("http://127.0.0.1:9/{a,b}"),
             publicsession.check_commands(Node("h", {}), "sid", "http://127.0.0.1:9/{a}")[1], omeroweb.LOGIN_SCRIPT]
    for line in built:
        assert line.count("curl ") == line.count("--globoff"), line
        assert re.findall(r"--url '?\S*http://127\.0\.0\.1", line) or '--url "$base' in line, line
    assert _curl_lines() and all("--globoff" in line or "CURL" in line for line in _curl_lines()
                                 if "curl -" in line), _curl_lines()


VALUES = ["$(touch pwn)", "`touch pwn`", "a'b\"c", "line1\nline2; touch pwn", "* ?", "--help", "x\\", "{y}"]


@pytest.mark.parametrize(("template", "pre", "post"), [
    ("printf %s {x} >out", "", ""), ("printf %s '{x}' >out", "", ""), ('printf %s "{x}" >out', "", ""),
    ('printf %s "pre-{x}-post" >out', "pre-", "-post"), ("printf %s pre'{x}'post >out", "pre", "post")])
@pytest.mark.parametrize("value", VALUES)
def test_a_template_gets_its_values_intact_and_never_runs_them(tmp_path: Path, template: str, pre: str, post: str,
                                                                value: str) -> None:
    command = fill(template, {"x": value, "y": "never-here"})
    done = subprocess.run(["/bin/sh", "-c", command], cwd=tmp_path, capture_output=True, text=True, timeout=10)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "pwn").exists()
    assert (tmp_path / "out").read_text() == f"{pre}{value}{post}"


def test_a_template_keeps_its_other_braces_and_refuses_an_escaped_placeholder(tmp_path: Path) -> None:
    command = fill("printf '{}%s' {x} | awk '{print}' >out", {"x": "v"})
    subprocess.run(["/bin/sh", "-c", command], cwd=tmp_path, check=True, timeout=10)
    assert (tmp_path / "out").read_text() == "{}v\n"
    with pytest.raises(TemplateError):
        fill("cmd \\{x}", {"x": "v"})


def _crypt(rounds: int, alg: str = "sha512", length: int = 20) -> str:
    return f"pbkdf2({rounds},{length},{alg})$salt${'0' * 40}"


@pytest.mark.parametrize(("stored", "message"), [
    (_crypt(10**12), "round count 1000000000000 above bound"), (_crypt(1000, "sha999"), "unknown digest sha999"),
    (_crypt(1000, length=10**10), "key length")])
def test_a_hash_too_costly_or_unknown_is_not_tried(stored: str, message: str) -> None:
    with pytest.raises(CannotCheckError, match=message):
        StoredPassword(True, stored).matches(["", "1234"])
    digest = hashlib.pbkdf2_hmac("sha512", b"1234", b"salt", 1000, 20).hex()
    assert StoredPassword(True, f"pbkdf2(1000,20,sha512)$salt${digest}").matches(["1234"])


class _Big(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        size = int(self.path.strip("/") or 0)
        self.send_response(200)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        for _ in range(size // 4096):
            self.wfile.write(b"x" * 4096)
        self.wfile.write(b"x" * (size % 4096))

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Big)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_response_body_is_read_up_to_a_cap(site: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http, "MAX_BODY_BYTES", 100_000)
    client = http.Client(site)
    assert client.get("/100000").response.text == "x" * 100_000
    with pytest.raises(http.BodyTooLargeError, match="larger than 100000 bytes"):
        client.get("/5000000")
    assert len(client.get("/10").response.content) == 10  # the client still works after a refused answer


@pytest.mark.parametrize("args", ["ansible_host: 'a$(touch x)'", "ansible_ssh_common_args: \"-J 'u@j;id'\"",
                                  "ansible_ssh_common_args: \"-o ProxyJump=ok,b`id`:22\"",
                                  "ansible_ssh_common_args: \"-J 'u$(id)@j'\""])
def test_names_inside_the_jump_proxycommand_are_names(tmp_path: Path, args: str) -> None:
    path = tmp_path / "inv.yml"
    path.write_text(f"all:\n  hosts:\n    h:\n      ansible_connection: ssh\n      {args}\n")
    problems = validate(load([path]))
    assert any("holds characters other than letters, digits and .-_:[]%" in p for p in problems), problems


def test_ordinary_names_and_jumps_pass(tmp_path: Path) -> None:
    path = tmp_path / "inv.yml"
    path.write_text("all:\n  hosts:\n    h:\n      ansible_host: 'fe80::1%eth0'\n"
                    "      ansible_ssh_common_args: '-J admin@bastion.example:2222 -o ProxyJump=ssh://u@[::1]:22'\n")
    assert validate(load([path])) == []


class _Api:
    """The Docker API of one container whose command writes ``size`` bytes."""

    def __init__(self, size: int) -> None:
        self.size, self.sent = size, 0

    def exec_create(self, container: str, cmd: list[str], environment: object = None) -> dict[str, str]:
        return {"Id": "e1"}

    def exec_start(self, exec_id: str, stream: bool = False) -> Iterator[bytes]:
        while self.sent < self.size:
            self.sent += 1 << 16
            yield b"x" * (1 << 16)

    def exec_inspect(self, exec_id: str) -> dict[str, int]:
        return {"ExitCode": 3}


class _Container:
    def __init__(self, size: int) -> None:
        self.id, self.name = "c1", "uwsgi-1"
        self.client = type("Client", (), {"api": _Api(size)})()


def test_a_container_command_output_is_read_up_to_a_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compose, "MAX_OUTPUT_BYTES", 1 << 20)
    assert compose._exec(_Container(1 << 18), "cat x", None) == (3, "x" * (1 << 18))  # type: ignore[arg-type]
    big = _Container(1 << 30)
    with pytest.raises(AssertionError, match="wrote more than 1048576 bytes"):
        compose._exec(big, "cat /dev/zero", None)  # type: ignore[arg-type]
    assert big.client.api.sent <= (1 << 20) + (1 << 16)
