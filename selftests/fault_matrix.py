"""The fault matrix: proves every control can fail.

Each fault applies a real misconfiguration to the running reference stack
(inside its containers), runs the non-disruptive controls, records which
failed, and reverts. Writes ``reports/faults.json``; exits 1 when a fault is
not caught by the controls it names or when a control has no fault.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from deploycheck.controls import ID_PATTERN
from deploycheck.stack import STACKS, StackError, wait_ready

ROOT = Path(__file__).resolve().parent.parent
PROXY, RO, RW, DB = "idr-proxy", "idr-omeroreadonly-1", "idr-omeroreadwrite", "idr-database"
SERVERS_CONF = "/etc/nginx/conf.d/servers.conf"
MS_CONF = "/opt/omero/omero-ms-image-region/conf/config.yaml"
HAND_PID = "/run/deploycheck-fault.pid"


@dataclass
class Fault:
    name: str
    description: str
    expected: list[str]
    apply: list[tuple[str, str]]  # (container, shell command)
    revert: list[tuple[str, str]]
    restart_after: list[str] = field(default_factory=list)  # containers restarted to revert


FAULTS = [
    Fault("maintenance-flag-left", "the maintenance flag is left on the proxy after a deploy",
          ["IDR-MAINT-01"],
          [(PROXY, "touch /srv/www/omero-maintenance.flag")], [(PROXY, "rm -f /srv/www/omero-maintenance.flag")]),
    Fault("cachebuster-public", "the cache-buster port 9000 listens on all interfaces",
          ["IDR-PROXY-02", "IDR-PROXY-01"],
          [(PROXY, f"sed -i 's/listen 127.0.0.1:9000;/listen 9000;/' {SERVERS_CONF} && systemctl restart nginx")],
          [(PROXY, f"sed -i 's/listen 9000;/listen 127.0.0.1:9000;/' {SERVERS_CONF} && systemctl restart nginx")]),
    Fault("stray-public-listener", "an unexpected service listens publicly on the proxy (port 8080)",
          ["IDR-PROXY-01"],
          [(PROXY, "systemd-run --unit=deploycheck-stray --property=WorkingDirectory=/srv/www/html "
                   "python3 -m http.server 8080 && for i in $(seq 50); do ss -Htln | grep -q ':8080 ' && break;"
                   " sleep 0.1; done")],
          [(PROXY, "systemctl stop deploycheck-stray")]),
    Fault("web-started-by-hand", "OMERO.web stopped in systemd and started by hand instead",
          ["IDR-SYS-01"],
          [(RO, "systemctl stop omero-web && (cd /tmp && setsid env $(grep -v '^#' /etc/omero/omero.env | xargs) "
                "PYTHONPATH=/opt/omero/src DJANGO_SETTINGS_MODULE=omeroweb.settings "
                "runuser -u omero-web -- gunicorn --bind 127.0.0.1:4080 omeroweb.wsgi:application "
                f">/dev/null 2>&1 & echo $! > {HAND_PID}) && for i in $(seq 50); do ss -Htln | grep -q ':4080 ' "
                "&& break; sleep 0.1; done")],
          [(RO, f"kill $(cat {HAND_PID}); rm -f {HAND_PID}; for i in $(seq 50); do ss -Htln | grep -q ':4080 ' "
                "|| break; sleep 0.1; done; systemctl start omero-web")]),
    Fault("ms-cache-control-private", "the microservice sends its shipped 'Cache-Control: private' header",
          ["IDR-CACHE-01"],
          [(RO, f"sed -i 's/^cache-control-header: .*/cache-control-header: \"private, max-age=3600\"/' {MS_CONF}"
                " && systemctl restart omero-ms-image-region && sleep 0.5")],
          [(RO, f"sed -i 's/^cache-control-header: .*/cache-control-header: \"public, max-age=86400\"/' {MS_CONF}"
                " && systemctl restart omero-ms-image-region")]),
    Fault("set-cookie-not-ignored", "the proxy no longer ignores the backend's Set-Cookie for caching",
          ["IDR-CACHE-02"],
          [(PROXY, "sed -i 's/proxy_ignore_headers \"Set-Cookie\" /proxy_ignore_headers /' "
                   "/etc/nginx/idr/cached-location.inc && nginx -s reload")],
          [(PROXY, "sed -i 's/proxy_ignore_headers \"Vary\"/proxy_ignore_headers \"Set-Cookie\" \"Vary\"/' "
                   "/etc/nginx/idr/cached-location.inc && nginx -s reload")]),
    Fault("microservice-stopped", "the image-region microservice is stopped on a read-only server",
          ["IDR-SYS-01", "MSIR-RENDER-01"],
          [(RO, "systemctl stop omero-ms-image-region")], [(RO, "systemctl start omero-ms-image-region")]),
    Fault("pg-data-dir-open", "the PostgreSQL data directory is readable by its group",
          ["IDR-DB-01"],
          [(DB, "chmod 0750 /var/lib/pgsql/15/data")], [(DB, "chmod 0700 /var/lib/pgsql/15/data")]),
    Fault("backup-job-not-executable", "the daily pg_dump job lost its execute bit (run-parts skips it)",
          ["OMERO-BACKUP-01"],
          [(DB, "chmod 0644 /etc/cron.daily/omero-pgdump")], [(DB, "chmod 0755 /etc/cron.daily/omero-pgdump")]),
    Fault("bioformats-cache-missing", "/data/BioFormatsCache was removed on the read-write server",
          ["IDR-DATA-02"],
          [(RW, "rmdir /data/BioFormatsCache")],
          [(RW, "install -d -o omero-server -g omero-server -m 0755 /data/BioFormatsCache")]),
    Fault("data-not-a-volume", "/data on the read-write server is no longer a separate volume",
          ["IDR-DATA-01"],
          [(RW, "umount -l /data")], [], restart_after=[RW]),
]


@dataclass
class Result:
    name: str
    description: str
    expected: list[str]
    failed: list[str]
    caught: bool
    collateral: list[str]
    seconds: float


def sh(container: str, command: str, timeout: float = 60) -> None:
    done = subprocess.run(["docker", "exec", container, "sh", "-c", command], capture_output=True, text=True,
                          timeout=timeout)
    if done.returncode != 0:
        raise StackError(f"{container}: '{command[:60]}...' failed: {done.stderr.strip()[:200]}")


def run_controls(inventory: str, reports: Path) -> list[str]:
    """Ids of the controls that failed or errored, on any host."""
    subprocess.run([sys.executable, "-m", "pytest", f"--inventory={inventory}", "-m", "not disruptive", "-q",
                    f"--reports-dir={reports}"],
                   cwd=ROOT, capture_output=True, text=True, timeout=600)
    data = json.loads((reports / "controls.json").read_text())
    return sorted({c["id"] for c in data["controls"] if c["outcome"] in ("failed", "error")})


def all_control_ids(inventory: str, reports: Path) -> set[str]:
    data = json.loads((reports / "controls.json").read_text())
    return {c["id"] for c in data["controls"] if ID_PATTERN.match(c["id"])}


def run_fault(fault: Fault, inventory: str, scratch: Path) -> Result:
    started = time.monotonic()
    print(f"[faults] {fault.name}: {fault.description}", flush=True)
    try:
        for container, command in fault.apply:
            sh(container, command)
        failed = run_controls(inventory, scratch / fault.name)
    finally:
        for container, command in fault.revert:
            sh(container, command)
        for container in fault.restart_after:
            subprocess.run(["docker", "restart", container], capture_output=True, timeout=120, check=True)
        wait_ready(STACKS["idr"], deadline_s=120)
    caught = set(fault.expected) <= set(failed)
    collateral = sorted(set(failed) - set(fault.expected))
    verdict = "caught" if caught else "NOT CAUGHT"
    print(f"[faults]   {verdict}: failed {failed or 'nothing'}"
          + (f" (collateral {collateral})" if collateral else ""), flush=True)
    return Result(fault.name, fault.description, fault.expected, failed, caught, collateral,
                  round(time.monotonic() - started, 2))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inventory", default="inventories/reference-idr.yml")
    parser.add_argument("--only", nargs="*", help="run only these faults")
    parser.add_argument("--out", default="reports/faults.json")
    args = parser.parse_args(argv)
    faults = [f for f in FAULTS if not args.only or f.name in args.only]
    with tempfile.TemporaryDirectory(prefix="deploycheck-faults-") as tmp:
        scratch = Path(tmp)
        baseline = run_controls(args.inventory, scratch / "baseline")
        if baseline:
            print(f"[faults] the healthy stack already fails {baseline}; fix that first", file=sys.stderr)
            return 1
        control_ids = all_control_ids(args.inventory, scratch / "baseline")
        results = [run_fault(f, args.inventory, scratch) for f in faults]
        after = run_controls(args.inventory, scratch / "after")
    if after:
        print(f"[faults] reverting left the stack failing {after}", file=sys.stderr)
        return 1
    covered = {i for r in results if r.caught for i in r.expected}
    uncovered = sorted(control_ids - covered) if not args.only else []
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"faults": [asdict(r) for r in results], "controls_without_fault": uncovered},
                              indent=2) + "\n")
    missed = [r.name for r in results if not r.caught]
    caught = len(results) - len(missed)
    coverage = "partial run" if args.only else \
        f"{len(control_ids) - len(uncovered)}/{len(control_ids)} controls shown to fail"
    print(f"faults: {caught} caught, {len(missed)} missed of {len(results)}; {coverage}; wrote {out}")
    if uncovered:
        print(f"[faults] controls no fault makes fail: {uncovered}", file=sys.stderr)
    return 0 if not missed and not uncovered else 1


if __name__ == "__main__":
    sys.exit(main())
