"""Builds, starts and stops the reference stacks (``make stack``, ``make check``).

``python -m deploycheck.stack up [idr]`` makes sure a Docker engine answers
(installing Debian's docker.io when run as root on a machine without one),
builds the shared systemd base layer (from a local debootstrap when no
registry answers), builds and starts the compose project, and waits until
every host's systemd is running and the public site answers.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import requests
import urllib3

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)  # readiness polls our own stacks

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SYSTEMD_IMAGE = "deploycheck/systemd"
LOCAL_BASE = "deploycheck/debian:bookworm"
REGISTRY_BASE = "debian:bookworm-slim"
DOCKERD_LOG = Path("/var/log/deploycheck-dockerd.log")
INOTIFY_INSTANCES = Path("/proc/sys/fs/inotify/max_user_instances")
# Each systemd host's PID 1 and dbus hold about 4 inotify instances, all
# counted against root's one per-user limit (128 on a stock kernel):
# about 30 hosts exhaust it and units fail at boot ("degraded").
INOTIFY_PER_HOST = 8
INOTIFY_FLOOR = 1024


@dataclass(frozen=True)
class StackSpec:
    name: str
    project: str
    compose_file: Path
    containers: tuple[str, ...]  # systemd hosts (container names) or compose services
    ready_url: str
    ready_checks: tuple[tuple[str, str], ...] = ()  # (container or service, shell test) that must succeed
    systemd: bool = True
    tls_dir: Path | None = None
    tls_basename: str = "idr"
    data_dir: Path | None = None  # host folder of the stack's data (removed by down --volumes)
    overrides: tuple[Path, ...] = ()  # further compose files layered on compose_file
    images_from: str | None = None  # a stack whose images this one runs (it builds none of its own)
    self_signed_dir: Path | None = None  # where a self-signed certificate is made, as Vidjil's docs make one
    # a stack whose data volumes this one starts from clones of (seed 000: a new release from production's volumes)
    volumes_from: tuple[str, tuple[str, ...]] | None = None


STACKS = {
    "idr": StackSpec(
        "idr", "deploycheck-idr", FIXTURES / "idr" / "docker-compose.yml",
        ("idr-proxy", "idr-omeroreadwrite", "idr-omeroreadonly-1", "idr-database", "idr-outside"),
        "http://127.0.0.1:18080/webclient/?experimenter=-1",
        (
            ("idr-database", "ls /var/lib/pgsql/backup/database/*.pg_dump"),
            ("idr-omeroreadwrite", "test -s /data/OMERO/backup/omero.config"),
            ("idr-omeroreadwrite", "ls /mnt/backup_server/omero/rdiff-backup-data/current_mirror.*"),
            ("idr-omeroreadwrite", "ls /opt/omero/memo-regen/rslt.*/timed"),
        ),
        tls_dir=FIXTURES / "idr" / "proxy" / "tls",
    ),
    "vidjil": StackSpec(
        "vidjil", "deploycheck-vidjil", FIXTURES / "vidjil" / "docker-compose.yml",
        ("mysql", "uwsgi", "workers", "fuse", "nginx", "backup"),
        "https://127.0.0.1:28443/vidjil/default/index",
        (("backup", "ls /mnt/backup/backup_*"),),
        systemd=False,
        tls_dir=FIXTURES / "vidjil" / "nginx" / "tls",
        tls_basename="web2py",
        data_dir=Path(os.environ.get("VIDJIL_DATA", "/var/lib/deploycheck/vidjil")),
    ),
}
# The IDR stack scaled out to four read-only servers (same project: `up idr` returns to one).
STACKS["idr-ro4"] = replace(
    STACKS["idr"], name="idr-ro4", overrides=(FIXTURES / "idr" / "readonly-x4.yml",),
    containers=(*STACKS["idr"].containers, "idr-omeroreadonly-2", "idr-omeroreadonly-3", "idr-omeroreadonly-4"))
# ... and to sixteen, each a full host (make bench: scale16).
STACKS["idr-ro16"] = replace(
    STACKS["idr"], name="idr-ro16", overrides=(FIXTURES / "idr" / "readonly-x16.yml",),
    containers=(*STACKS["idr"].containers, *(f"idr-omeroreadonly-{i}" for i in range(2, 17))))
# IDR as it ships (IDR/deployment's production settings), on the IDR images.
STACKS["idr-shipped"] = StackSpec(
    "idr-shipped", "deploycheck-idr-shipped", FIXTURES / "idr-shipped" / "docker-compose.yml",
    ("idrs-proxy", "idrs-omeroreadwrite", "idrs-omeroreadonly-1", "idrs-omeroreadonly-2", "idrs-omeroreadonly-3",
     "idrs-database", "idrs-outside"),
    "http://127.0.0.1:19080/webclient/?experimenter=-1",
    (
        ("idrs-database", "ls /var/lib/pgsql/backup/database/idr.*.pg_dump"),
        ("idrs-omeroreadwrite", "test -s /data/OMERO/backup/omero.config"),
        ("idrs-omeroreadwrite", "ls /mnt/backup_server/omero/rdiff-backup-data/current_mirror.*"),
        ("idrs-omeroreadwrite", "ls /opt/omero/memo-regen/rslt.*/timed"),
        ("idrs-proxy", "iptables -S INPUT | grep -q REJECT"),  # IDR's host firewall is in place
    ),
    images_from="idr",
)
# Vidjil as release 2022.03 ships it, on the Vidjil images.
STACKS["vidjil-shipped"] = StackSpec(
    "vidjil-shipped", "deploycheck-vidjil-shipped", FIXTURES / "vidjil-shipped" / "docker-compose.yml",
    ("mysql", "uwsgi", "workers", "fuse", "nginx", "backup"),
    "https://127.0.0.1:29443/vidjil/default/index",
    systemd=False,
    data_dir=Path(os.environ.get("VIDJILS_DATA", "/var/lib/deploycheck/vidjil-shipped")),
    images_from="vidjil",
    self_signed_dir=FIXTURES / "vidjil-shipped" / "ssl",
)
# A new IDR release beside the reference stack, from clones of its data volumes (the IDR-GATE controls).
STACKS["idr-candidate"] = StackSpec(
    "idr-candidate", "deploycheck-idr-candidate", FIXTURES / "idr-candidate" / "docker-compose.yml",
    tuple(c.replace("idr-", "idrc-", 1) for c in STACKS["idr"].containers),
    "http://127.0.0.1:17080/webclient/?experimenter=-1",
    tuple((c.replace("idr-", "idrc-", 1), test) for c, test in STACKS["idr"].ready_checks),  # the same readiness
    images_from="idr",
    volumes_from=("idr", ("pgsql", "omero-data", "omero-backup")),
)
DEFAULT_STACKS = ("idr", "vidjil")  # what `all` means


class StackError(Exception):
    """Something the user must fix; the message says what."""


def say(message: str) -> None:
    print(f"[stack] {message}", flush=True)


def run(cmd: list[str], timeout: float = 900, check: bool = True, quiet: bool = False,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, text=True, capture_output=quiet, timeout=timeout,
                            env={**os.environ, **(env or {})})
    if check and result.returncode != 0:
        detail = (result.stderr or "").strip().splitlines()[-1:] if quiet else []
        raise StackError(f"'{' '.join(cmd[:4])}...' failed ({result.returncode}) {' '.join(detail)}")
    return result


def engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0


def ensure_engine(deadline_s: float = 90) -> None:
    """A Docker engine that answers; as root, install and start one if needed."""
    if engine_answers():
        return
    if os.geteuid() != 0:
        raise StackError("no Docker engine answers; start dockerd (or run as root to let deploycheck do it)")
    missing = [tool for tool in ("dockerd", "docker-compose", "debootstrap") if shutil.which(tool) is None]
    if missing:
        say(f"installing Debian packages for {', '.join(missing)}")
        run(["apt-get", "update", "-qq"], quiet=True)
        run(["apt-get", "install", "-y", "-qq", "docker.io", "docker-compose", "debootstrap"], quiet=True,
            env={"DEBIAN_FRONTEND": "noninteractive"})
    say(f"starting dockerd (log: {DOCKERD_LOG})")
    with open(DOCKERD_LOG, "ab") as log:
        subprocess.Popen(["dockerd"], stdout=log, stderr=log, start_new_session=True)
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if engine_answers():
            say("dockerd answers")
            return
        time.sleep(0.5)
    raise StackError(f"dockerd did not answer within {deadline_s:.0f} s; see {DOCKERD_LOG}")


def image_exists(name: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", name], capture_output=True).returncode == 0


def apt_mirror() -> str:
    """The Debian mirror this machine's own apt uses (never a fixed host)."""
    for source in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]:
        if not source.is_file():
            continue
        for line in source.read_text().splitlines():
            words = line.split()
            if line.startswith("URIs:") and len(words) > 1 and "security" not in words[1]:
                return words[1]
            if line.startswith("deb ") and len(words) > 1:
                url = next((w for w in words[1:] if "://" in w), "")
                if url and "security" not in url:
                    return url
    raise StackError("no Debian mirror found in /etc/apt/sources.list*; cannot build a local base image")


def base_image() -> str:
    """The registry's Debian image when it can be had, else a local debootstrap."""
    if image_exists(REGISTRY_BASE):
        return REGISTRY_BASE
    if image_exists(LOCAL_BASE):
        return LOCAL_BASE
    pulled = subprocess.run(["docker", "pull", REGISTRY_BASE], capture_output=True, timeout=120)
    if pulled.returncode == 0:
        return REGISTRY_BASE
    if shutil.which("debootstrap") is None:
        raise StackError(f"cannot pull {REGISTRY_BASE} and debootstrap is not installed")
    mirror = apt_mirror()
    say(f"no registry answers; building {LOCAL_BASE} with debootstrap")
    with tempfile.TemporaryDirectory(prefix="deploycheck-rootfs-") as rootfs:
        run(["debootstrap", "--variant=minbase", "bookworm", rootfs, mirror], quiet=True, timeout=900)
        tar = subprocess.Popen(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
        imported = subprocess.run(["docker", "import", "-", LOCAL_BASE], stdin=tar.stdout, capture_output=True)
        tar.wait()
        if imported.returncode != 0:
            raise StackError(f"docker import failed: {imported.stderr.decode().strip()}")
    return LOCAL_BASE


def compose_cmd(spec: StackSpec) -> list[str]:
    files = [arg for f in (spec.compose_file, *spec.overrides) for arg in ("-f", str(f))]
    if shutil.which("docker-compose"):
        return ["docker-compose", "-p", spec.project, *files]
    return ["docker", "compose", "-p", spec.project, *files]


def ensure_tls(directory: Path, name: str = "localhost", base: str = "idr") -> None:
    """A local CA and a server certificate for ``name`` it issued, made once;
    the suite verifies the site against the CA as a user would a real one."""
    if (directory / f"{base}.crt").exists() and (directory / "ca.crt").exists():
        return
    if shutil.which("openssl") is None:
        raise StackError("openssl is needed to make the reference stack's certificates")
    directory.mkdir(parents=True, exist_ok=True)
    say(f"making a CA and a certificate for {name} in {directory}")
    ext = directory / "server.ext"
    ext.write_text(f"subjectAltName=DNS:{name}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
                   "extendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
    steps = [
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650", "-subj",
         "/CN=deploycheck reference CA", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-keyout", "ca.key", "-out", "ca.crt"],
        ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout", f"{base}.key",
         "-out", f"{base}.csr"],
        ["openssl", "x509", "-req", "-in", f"{base}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
         "-days", "397", "-extfile", "server.ext", "-out", f"{base}.crt"],
    ]
    for step in steps:
        done = subprocess.run(step, cwd=directory, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise StackError(f"openssl failed: {done.stderr.strip()[-200:]}")


def ensure_self_signed(directory: Path, name: str = "localhost", base: str = "web2py") -> None:
    """A self-signed certificate as Vidjil's docs have the operator make one
    (openssl req -x509), with the host name also as subjectAltName so that a
    client trusting it can check the name."""
    if (directory / f"{base}.crt").exists():
        return
    directory.mkdir(parents=True, exist_ok=True)
    say(f"making a self-signed certificate for {name} in {directory}")
    done = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1780",
                           "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}",
                           "-keyout", f"{base}.key", "-out", f"{base}.crt"],
                          cwd=directory, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise StackError(f"openssl failed: {done.stderr.strip()[-200:]}")


def build(spec: StackSpec, no_cache: bool = False) -> float:
    """Build what is missing of the stack's images (all of them with ``no_cache``); seconds taken."""
    if spec.self_signed_dir is not None:
        ensure_self_signed(spec.self_signed_dir)
    if spec.images_from is not None:
        return build(STACKS[spec.images_from], no_cache)
    started = time.monotonic()
    fresh = ["--no-cache"] if no_cache else []
    if spec.tls_dir is not None:
        ensure_tls(spec.tls_dir, base=spec.tls_basename)
    base = base_image()
    if spec.systemd:
        say(f"building {SYSTEMD_IMAGE} from {base}")
        run(["docker", "build", "-q", *fresh, "--build-arg", f"BASE_IMAGE={base}", "-t", SYSTEMD_IMAGE,
             str(FIXTURES / "base")], quiet=True)
    say(f"building the {spec.name} hosts")
    run([*compose_cmd(spec), "build", "-q", *fresh], quiet=True,
        env={"SYSTEMD_IMAGE": SYSTEMD_IMAGE, "BASE_IMAGE": base})
    took = time.monotonic() - started
    say(f"images ready in {took:.1f} s")
    return took


def system_state(container: str) -> str:
    result = subprocess.run(["docker", "exec", container, "systemctl", "is-system-running"],
                            capture_output=True, text=True, timeout=30)
    return result.stdout.strip() or "unreachable"


def service_container(spec: StackSpec, service: str) -> str:
    """The container of a compose service (by label), or ``service`` itself as a container name."""
    if spec.systemd:
        return service
    found = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={spec.project}",
                            "--filter", f"label=com.docker.compose.service={service}"],
                           capture_output=True, text=True, timeout=30).stdout.split()
    return found[0] if found else service


def check_passes(container: str, shell_test: str) -> bool:
    done = subprocess.run(["docker", "exec", container, "sh", "-c", shell_test], capture_output=True, timeout=30)
    return done.returncode == 0


def container_state(spec: StackSpec, service: str) -> str:
    """'running' once a container is up (and healthy, when it has a healthcheck)."""
    if spec.systemd:
        return system_state(service)
    fmt = "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}"
    out = subprocess.run(["docker", "inspect", "-f", fmt, service_container(spec, service)],
                         capture_output=True, text=True, timeout=30).stdout.split()
    if not out:
        return "missing"
    if out[0] != "running":
        return out[0]
    return "running" if len(out) == 1 or out[1] == "healthy" else out[1]


def wait_ready(spec: StackSpec, deadline_s: float = 240) -> None:
    """Poll until every host's systemd is running and the site answers 200."""
    started = time.monotonic()
    end = started + deadline_s
    pending = set(spec.containers)
    last = ""
    while time.monotonic() < end:
        states = {c: container_state(spec, c) for c in sorted(pending)}
        failed = [c for c, s in states.items() if s == "degraded"]
        if failed:
            units = {c: subprocess.run(["docker", "exec", c, "systemctl", "--failed", "--no-legend", "--plain"],
                                       capture_output=True, text=True).stdout.split()[:1] for c in failed}
            raise StackError(f"hosts degraded (failed units): {units}")
        pending = {c for c, s in states.items() if s != "running"}
        site = "waiting for hosts"
        if not pending:
            code: int | str  # the status code, or the name of the error that stood in for one
            try:
                code = requests.get(spec.ready_url, timeout=5, allow_redirects=False, verify=False).status_code
            except requests.RequestException as exc:
                code = exc.__class__.__name__
            waiting = [f"{c}: {cmd}" for c, cmd in spec.ready_checks
                       if not check_passes(service_container(spec, c), cmd)]
            if code == 200 and not waiting:
                say(f"{spec.name} stack ready in {time.monotonic() - started:.1f} s")
                return
            site = f"site answers {code}" + (f", waiting for {waiting[0]}" if waiting else "")
        status = f"{len(spec.containers) - len(pending)}/{len(spec.containers)} hosts running, {site}"
        if status != last:
            say(status)
            last = status
        time.sleep(0.5)
    raise StackError(f"{spec.name} stack not ready after {deadline_s:.0f} s ({last})")


def clone_volumes(spec: StackSpec) -> None:
    """Fresh clones of the source stack's data volumes, as a new release is
    provisioned from production's: the source's containers are paused for
    the copy (a crash-consistent snapshot, as a volume snapshot is) and
    resumed after, whatever happens."""
    assert spec.volumes_from is not None
    source = STACKS[spec.volumes_from[0]]
    run([*compose_cmd(spec), "down", "-v"], quiet=True)
    paused = [c for c in source.containers if _running(c)]
    if not paused:
        raise StackError(f"{spec.name} is cloned from the {source.name} stack, which is not running")
    say(f"cloning {', '.join(spec.volumes_from[1])} from {source.project} (paused meanwhile)")
    run(["docker", "pause", *paused], quiet=True)
    try:
        for volume in spec.volumes_from[1]:
            target = f"{spec.project}_{volume}"
            subprocess.run(["docker", "volume", "rm", "-f", target], capture_output=True, timeout=60)
            run(["docker", "volume", "create", target], quiet=True)
            run(["docker", "run", "--rm", "--entrypoint", "/bin/sh", "-v", f"{source.project}_{volume}:/from:ro",
                 "-v", f"{target}:/to", SYSTEMD_IMAGE, "-c", "cp -a /from/. /to/"], quiet=True)
    finally:
        run(["docker", "unpause", *paused], quiet=True)


def _running(container: str) -> bool:
    done = subprocess.run(["docker", "inspect", "-f", "{{.State.Running}}", container], capture_output=True,
                          text=True, timeout=30)
    return done.returncode == 0 and done.stdout.strip() == "true"


def ensure_inotify_room(hosts: int) -> None:
    """Enough inotify instances for every stack's systemd hosts at once; as
    root, raise the limit (as kind's docs advise for many systemd nodes),
    else say how, since a shortfall only shows later as failed units."""
    try:
        limit = int(INOTIFY_INSTANCES.read_text())
    except (OSError, ValueError):
        return
    needed = max(INOTIFY_FLOOR, hosts * INOTIFY_PER_HOST)
    if limit >= needed:
        return
    if os.geteuid() != 0:
        say(f"warning: fs.inotify.max_user_instances is {limit}; many systemd hosts need about {needed} "
            f"(sysctl -w fs.inotify.max_user_instances={needed})")
        return
    try:
        INOTIFY_INSTANCES.write_text(f"{needed}\n")
    except OSError as exc:
        say(f"warning: could not raise fs.inotify.max_user_instances from {limit}: {exc.strerror}")
        return
    say(f"raised fs.inotify.max_user_instances from {limit} to {needed} for the stacks' systemd hosts")


def up(spec: StackSpec) -> None:
    ensure_engine()
    ensure_inotify_room(sum(len(s.containers) for s in STACKS.values() if s.systemd))
    build(spec)
    if spec.volumes_from is not None:
        clone_volumes(spec)
    say(f"starting {spec.project}")
    run([*compose_cmd(spec), "up", "-d", "--remove-orphans"], quiet=True, env={"SYSTEMD_IMAGE": SYSTEMD_IMAGE})
    wait_ready(spec)


@contextmanager
def scaled_out(name: str) -> Iterator[float]:
    """A scaled-out variant of the IDR stack (``idr-ro4``, ``idr-ro16``) for a
    while; the usual stack comes back whatever happens, a failed start
    included, so later runs never meet a half-scaled site. Yields the
    seconds the start took."""
    started = time.monotonic()
    try:
        up(STACKS[name])
        yield time.monotonic() - started
    finally:
        say("back to one read-only server")
        up(STACKS["idr"])


def down(spec: StackSpec, volumes: bool = False) -> None:
    if not engine_answers():
        say("no Docker engine answers; nothing to stop")
        return
    run([*compose_cmd(spec), "down", *(["-v"] if volumes else [])], quiet=True)
    if volumes and spec.volumes_from is not None:  # the clones are external to compose
        for volume in spec.volumes_from[1]:
            subprocess.run(["docker", "volume", "rm", "-f", f"{spec.project}_{volume}"], capture_output=True,
                           timeout=60)
    if volumes and spec.data_dir is not None and spec.data_dir.is_dir():
        shutil.rmtree(spec.data_dir)
    say(f"{spec.project} stopped" + (" and its volumes removed" if volumes else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploycheck.stack", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "down", "build", "wait", "engine"])
    parser.add_argument("stack", nargs="?", default="idr", choices=[*sorted(STACKS), "all"])
    parser.add_argument("--volumes", action="store_true", help="with down: also remove the data volumes")
    args = parser.parse_args(argv)
    specs = [STACKS[n] for n in DEFAULT_STACKS] if args.stack == "all" else [STACKS[args.stack]]
    try:
        for spec in specs:
            if args.action == "engine":
                ensure_engine()
            elif args.action == "build":
                ensure_engine()
                build(spec)
            elif args.action == "up":
                up(spec)
            elif args.action == "wait":
                wait_ready(spec)
            else:
                down(spec, args.volumes)
    except StackError as exc:
        print(f"deploycheck: {exc}", file=sys.stderr)
        return 1
    except subprocess.TimeoutExpired as exc:
        print(f"deploycheck: timed out: {' '.join(map(str, exc.cmd[:4]))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
