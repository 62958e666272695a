"""The image-region microservice on the read-only servers (seed 003)."""

from __future__ import annotations

import json
import re
import shlex

import pytest

from deploycheck.control import control
from deploycheck.facts import hostfacts, nginx
from deploycheck.facts.listeners import listening_tcp, service_cgroups
from deploycheck.facts.memoregen import parse_status, status_command
from deploycheck.inventory.variables import expect

REF = "seed 003: Configuring and Running the Server"
FETCH = ("python3 -c \"import sys, urllib.request as u; r = u.urlopen(u.Request(sys.argv[1], method=sys.argv[2]),"
         " timeout=10); print(r.status); print(r.headers.get_all('Set-Cookie')); print(r.read().decode()[:2000])\"")


@control("MSIR-HOST-01", "The microservice's user can write the binary repository", "high",
         "seed 003: the microservice needs read-write access to the binary repository")
@pytest.mark.hosts("omeroreadonly")
def test_ms_writes_binary_repository(node, host) -> None:  # noqa: ANN001
    user, data = expect(node, "omero_user"), expect(node, "omero_data_dir")
    result = host.run(f"runuser -u {shlex.quote(user)} -- test -w {shlex.quote(data)}")
    assert result.rc == 0, f"{node.name}: {data} is not writable by {user}"


@control("MSIR-HOST-02", "OMERO.web keeps its sessions in Redis, where the microservice reads them", "critical",
         "seed 003: Redis backed sessions (filesystem sessions are not supported)")
@pytest.mark.hosts("omeroreadonly")
def test_web_sessions_in_redis(node, host) -> None:  # noqa: ANN001
    """Opens a public session on the host's own OMERO.web, then looks for it
    under Django's cache-session key in Redis."""
    url = "http://127.0.0.1" + expect(node, "public_entry_path")
    out = host.run(f"{FETCH} {shlex.quote(url)} GET")
    assert out.rc == 0, f"{node.name}: GET {url} on the host failed: {out.stderr.strip()[-160:]}"
    name = expect(node, "session_cookie_name")
    match = re.search(rf"{re.escape(name)}=([a-z0-9]+)", out.stdout)
    assert match, f"{node.name}: {url} set no '{name}' cookie"
    key = f":1:django.contrib.sessions.cache{match.group(1)}"
    exists = host.run(f"redis-cli -n 0 EXISTS {shlex.quote(key)}").stdout.strip()
    assert exists == "1", f"{node.name}: session {key[:40]}... not in Redis db 0; OMERO.web sessions live elsewhere"


@control("MSIR-HOST-03", "The host's nginx sends the render routes to the microservice", "high",
         "seed 003: Redirecting OMERO.web to the Server")
@pytest.mark.hosts("omeroreadonly")
def test_nginx_routes_to_ms(node) -> None:  # noqa: ANN001
    config = nginx.dump(node)
    port = int(expect(node, "ms_port"))
    upstreams = {m.group(1) for m in re.finditer(
        rf"upstream\s+(\S+)\s*\{{[^}}]*server\s+(?:127\.0\.0\.1|localhost):{port}\b", config)}
    targets = upstreams | {f"127.0.0.1:{port}", f"localhost:{port}"}
    routed = [m for m in re.finditer(r"location\s+~\s+(\S*render_\S*)\s*\{([^}]*)\}", config)
              if "image_region" in m.group(1) and any(f"http://{t}" in m.group(2) for t in targets)]
    assert routed, f"{node.name}: no nginx location sends render_image_region to port {port}"


@control("MSIR-HOST-04", "The microservice answers its OPTIONS health check on the host", "high", REF)
@pytest.mark.hosts("omeroreadonly")
def test_ms_health(node, host) -> None:  # noqa: ANN001
    url = f"http://127.0.0.1:{int(expect(node, 'ms_port'))}/"
    out = host.run(f"{FETCH} {shlex.quote(url)} OPTIONS")
    assert out.rc == 0, f"{node.name}: OPTIONS {url} failed: {(out.stderr.strip().splitlines() or ['?'])[-1]}"
    body = out.stdout.split("\n", 2)[-1]
    try:
        provider = json.loads(body).get("provider")
    except ValueError:
        provider = None
    assert provider == "ImageRegionMicroservice", f"{node.name}: OPTIONS {url} gave {body[:120]!r}"


def _memo_status(node):  # noqa: ANN001, ANN202
    folder = expect(node, "memo_regen_dir")
    if not folder:
        pytest.skip(f"{node.name}: inventory sets no memo_regen_dir")
    try:
        status = parse_status(hostfacts.output(node, status_command(folder)))
    except ValueError as exc:
        raise AssertionError(f"{node.name}: {exc}") from exc
    assert status is not None, f"{node.name}: no rslt.* folder in {folder}"
    return status


@control("MSIR-SYS-01", "The microservice runs as its systemd unit from /etc/systemd/system and owns its port",
         "high", "seed 003: Using systemd")
@pytest.mark.hosts("omeroreadonly")
def test_ms_systemd_unit(node, host) -> None:  # noqa: ANN001
    """The docs install omero-ms-image-region.service in /etc/systemd/system and
    start it with systemctl; the process on the microservice's port must be that
    unit's, or systemctl restarts something other than what serves renders."""
    unit = expect(node, "ms_unit")
    out = hostfacts.output(node, f"systemctl show --property=LoadState,ActiveState,FragmentPath -- {shlex.quote(unit)}")
    state = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    assert state.get("LoadState") == "loaded", f"{node.name}: unit {unit} is {state.get('LoadState') or 'unknown'}"
    assert state.get("FragmentPath", "").startswith("/etc/systemd/system/"), \
        f"{node.name}: {unit} is loaded from {state.get('FragmentPath') or 'nowhere'}, not /etc/systemd/system"
    assert state.get("ActiveState") == "active", f"{node.name}: {unit} is {state.get('ActiveState')}"
    port = int(expect(node, "ms_port"))
    pids = [pid for sock in listening_tcp(node) if sock.port == port for _, pid in sock.processes]
    assert pids, f"{node.name}: no process seen listening on port {port}"
    outside = {pid: cg for pid, cg in service_cgroups(node, pids).items() if not cg.endswith(f"/{unit}")}
    assert not outside, f"{node.name}: port {port} is served outside {unit}: " + \
        "; ".join(f"pid {pid} in {cg}" for pid, cg in sorted(outside.items()))


@control("MSIR-MEMO-01", "The last memo-file regeneration ran to completion", "medium",
         "seed 003: Regenerating memo files (memofile-regen-status.sh)")
@pytest.mark.hosts("omeroreadwrite", "omeroreadonly")
def test_memo_regen_complete(node) -> None:  # noqa: ANN001
    status = _memo_status(node)
    assert status.complete and status.processed >= status.total, f"{node.name}: {status.line()}"


@control("MSIR-MEMO-02", "Failed memo files stay within the accepted share", "medium",
         "seed 003: Regenerating memo files (low percentages of Fail can be accepted)")
@pytest.mark.hosts("omeroreadwrite", "omeroreadonly")
def test_memo_regen_failures(node) -> None:  # noqa: ANN001
    status = _memo_status(node)
    limit = float(expect(node, "memo_fail_max_pct"))
    assert status.fail_pct <= limit, f"{node.name}: {status.line()}; expected at most {limit:g} % Fail"


MEMO_TOOLS = ("parallel", "time", "bc")


@control("MSIR-MEMO-03", "The memo-file regeneration's tools (parallel, time, bc) are installed where it runs",
         "medium", "seed 003: Requirements & caveats")
@pytest.mark.hosts("omeroreadwrite", "omeroreadonly")
def test_memo_regen_tools(node) -> None:  # noqa: ANN001
    """regen-memo-files.sh needs GNU parallel, time and bc; without them a
    regeneration started before an upgrade stops at once. Looked up along
    PATH, not with the shell's own ``time`` keyword."""
    if not expect(node, "memo_regen_dir"):
        pytest.skip(f"{node.name}: inventory sets no memo_regen_dir (memo files are not regenerated here)")
    script = ("for t in " + " ".join(MEMO_TOOLS) + "; do f=missing; IFS=:; for d in $PATH; do "
              "if [ -x \"$d/$t\" ]; then f=\"$d/$t\"; break; fi; done; unset IFS; echo \"$t $f\"; done")
    found = dict(line.split(" ", 1) for line in hostfacts.output(node, script).splitlines() if " " in line)
    missing = [t for t in MEMO_TOOLS if found.get(t, "missing") == "missing"]
    assert not missing, f"{node.name}: memo-file regeneration needs {', '.join(missing)}, not installed"
