"""A default run changes nothing: configuration and data trees, and the
databases' contents, are identical before and after it. Logs (OMERO.server's
var/log too: every visitor's session is logged), caches and
the tables every visitor writes (OMERO and web2py sessions, worker
heartbeats) are left out; a database's files change under any reader, so
its logical content is compared instead."""

from __future__ import annotations

import subprocess

from conftest import reference
from deploycheck.stack import STACKS, service_container

TREE = ("find {paths} -xdev -type f ! -path '*/BioFormatsCache/*' ! -path '*/var/log/*' -print0 2>/dev/null | "
        "sort -z | "
        "xargs -0 -r sha256sum | sha256sum")
IDR_TREES = {
    "idr-proxy": "/etc /srv",
    "idr-omeroreadonly-1": "/etc /srv /opt/omero",
    "idr-omeroreadwrite": "/etc /srv /data /opt/omero",
    "idr-database": "/etc /srv /var/lib/pgsql/backup",
}
# pg_dump's \restrict lines carry a random key per dump.
PG_CONTENT = ("su postgres -c \"pg_dump --data-only --exclude-table='session*' omero\" | "
              "grep -Ev '^.(un)?restrict ' | sha256sum")
MYSQL_CONTENT = ('mysqldump -uroot -p"$MYSQL_ROOT_PASSWORD" --no-create-info --skip-dump-date vidjil '
                 "--ignore-table=vidjil.web2py_session_vidjil --ignore-table=vidjil.scheduler_worker | sha256sum")


def _sh(container: str, command: str) -> str:
    done = subprocess.run(["docker", "exec", container, "sh", "-c", command], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, f"{container}: {done.stderr.strip()[:200]}"
    return done.stdout.split()[0]


def fingerprint() -> dict[str, str]:
    vidjil = STACKS["vidjil"]
    prints = {f"{c}:{paths}": _sh(c, TREE.format(paths=paths)) for c, paths in IDR_TREES.items()}
    prints["idr-database:omero"] = _sh("idr-database", PG_CONTENT)
    prints["vidjil:/etc"] = _sh(service_container(vidjil, "uwsgi"), TREE.format(paths="/etc /usr/share/vidjil"))
    prints["vidjil:nginx"] = _sh(service_container(vidjil, "nginx"), TREE.format(paths="/etc /usr/share/vidjil"))
    prints["vidjil:backups"] = _sh(service_container(vidjil, "backup"), TREE.format(paths="/etc /mnt/backup"))
    prints["vidjil:mysql"] = _sh(service_container(vidjil, "mysql"), MYSQL_CONTENT)
    return prints


def test_default_run_changes_nothing(deploycheck) -> None:
    before = fingerprint()
    idr, vidjil = reference("idr"), reference("vidjil")
    merged = {"all": {"children": {**idr["all"]["children"], **vidjil["all"]["children"]}, "vars": idr["all"]["vars"]}}
    run = deploycheck(merged, "-n", "auto")
    assert run.rc == 0, run.output[-1500:]
    after = fingerprint()
    changed = sorted(k for k in before if before[k] != after[k])
    assert not changed, f"a default run changed {changed}"
