"""The fault matrix: proves every control can fail.

Each fault applies a real misconfiguration to the running reference stack
(inside its containers), runs the non-disruptive controls, records which
failed, and reverts. Writes ``reports/faults.json``; exits 1 when a fault is
not caught by the controls it names or when a control has no fault.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from deploycheck.control import ID_PATTERN
from deploycheck.stack import STACKS, StackError, compose_cmd, service_container, wait_ready

ROOT = Path(__file__).resolve().parent.parent
PROXY, RO, RW, DB = "idr-proxy", "idr-omeroreadonly-1", "idr-omeroreadwrite", "idr-database"
DOCKER = "docker"  # a command for the engine itself (networks), not inside a container
PUBLIC_NET = "deploycheck-idr_public"
SERVERS_CONF = "/etc/nginx/conf.d/servers.conf"
UPSTREAMS = "/etc/nginx/conf.d/upstreams.conf"
MS_CONF = "/opt/omero/omero-ms-image-region/conf/config.yaml"
WEB_CONF = "/etc/nginx/conf.d/omeroweb.conf"
CACHE_CONF = "/etc/nginx/conf.d/cache.conf"
CACHED_INC = "/etc/nginx/idr/cached-location.inc"
UNCACHED_INC = "/etc/nginx/idr/uncached-location.inc"
COMMON_INC = "/etc/nginx/idr/common-server.inc"
MS_INCLUDE = "include /etc/nginx/snippets/omero-ms-image-region.conf;"
DUMPS = "/var/lib/pgsql/backup/database"
MEMO = "/opt/omero/memo-regen"
HAND_PID = "/run/deploycheck-fault.pid"


def wait_port(port: int, present: bool = True) -> str:
    """Shell: poll (bounded, 5 s) until a TCP port listens, or no longer does."""
    test = f"ss -Htln | grep -q ':{port} '"
    return f"for i in $(seq 50); do {test if present else '! ' + test} && break; sleep 0.1; done"


def psql(sql: str) -> str:
    return f"su postgres -c \"psql -X -q -d omero -c \\\"{sql}\\\"\""


@dataclass
class Fault:
    name: str
    description: str
    expected: list[str]
    apply: list[tuple[str, str]]  # (container or DOCKER, shell command)
    revert: list[tuple[str, str]]
    restart_after: list[str] = field(default_factory=list)  # containers restarted to revert
    pytest_args: list[str] = field(default_factory=list)
    stack: str = "idr"


def on_public_network(container: str, expected: str) -> Fault:
    return Fault(f"{container}-on-public-network", f"{container} got an interface on the public network",
                 [expected], [(DOCKER, f"network connect {PUBLIC_NET} {container}")],
                 [(DOCKER, f"network disconnect {PUBLIC_NET} {container}")])


def sed_fault(name: str, description: str, expected: list[str], container: str, path: str, old: str, new: str,
              then: str = "true", pytest_args: list[str] | None = None) -> Fault:
    """Replace text in a config file (and run ``then``), and back."""
    def edit(a: str, b: str) -> str:
        return f"sed -i 's%{a}%{b}%' {path} && {then}"
    return Fault(name, description, expected, [(container, edit(old, new))], [(container, edit(new, old))],
                 pytest_args=pytest_args or [])


FAULTS = [
    Fault("maintenance-flag-left", "the maintenance flag is left on the proxy after a deploy",
          ["IDR-MAINT-01"],
          [(PROXY, "touch /srv/www/omero-maintenance.flag")], [(PROXY, "rm -f /srv/www/omero-maintenance.flag")]),
    sed_fault("cachebuster-public", "the cache-buster port 9000 listens on all interfaces",
              ["IDR-PROXY-02", "IDR-PROXY-01", "IDR-EXPO-04"], PROXY, SERVERS_CONF,
              "listen 127.0.0.1:9000;", "listen 9000;", "systemctl restart nginx"),
    Fault("stray-public-listener", "an unexpected service listens publicly on the proxy (port 8080)",
          ["IDR-PROXY-01"],
          [(PROXY, "systemd-run --unit=deploycheck-stray --property=WorkingDirectory=/srv/www/html "
                   f"python3 -m http.server 8080 && {wait_port(8080)}")],
          [(PROXY, "systemctl stop deploycheck-stray")]),
    Fault("web-started-by-hand", "OMERO.web stopped in systemd and started by hand instead",
          ["IDR-SYS-01", "IDR-SYS-02"],
          [(RO, "systemctl stop omero-web && (cd /tmp && setsid env $(grep -v '^#' /etc/omero/omero.env | xargs) "
                "PYTHONPATH=/opt/omero/src DJANGO_SETTINGS_MODULE=omeroweb.settings "
                "runuser -u omero-web -- gunicorn --bind 127.0.0.1:4080 omeroweb.wsgi:application "
                f">/dev/null 2>&1 & echo $! > {HAND_PID}) && {wait_port(4080)}")],
          [(RO, f"kill $(cat {HAND_PID}); rm -f {HAND_PID}; {wait_port(4080, present=False)}; "
                "systemctl start omero-web")]),
    sed_fault("ms-cache-control-private", "the microservice sends its shipped 'Cache-Control: private' header",
              ["IDR-CACHE-01"], RO, MS_CONF, "public, max-age=86400", "private, max-age=3600",
              f"systemctl restart omero-ms-image-region && {wait_port(8081)}"),
    sed_fault("set-cookie-not-ignored", "the proxy no longer ignores the backend's Set-Cookie for caching",
              ["IDR-CACHE-02"], PROXY, "/etc/nginx/idr/cached-location.inc",
              'proxy_ignore_headers "Set-Cookie" "Vary"', 'proxy_ignore_headers "Vary"', "nginx -s reload"),
    Fault("ms-started-by-hand", "the microservice stopped in systemd and started by hand instead",
          ["IDR-SYS-01", "IDR-SYS-02", "MSIR-SYS-01"],
          [(RO, "systemctl stop omero-ms-image-region && (cd /tmp && setsid env $(grep -v '^#' /etc/omero/omero.env "
                f"| xargs) PYTHONPATH=/opt/omero/src MS_CONFIG={MS_CONF} runuser -u omero-server -- "
                f"python3 -m idrstub.ms >/dev/null 2>&1 & echo $! > {HAND_PID}) && {wait_port(8081)}")],
          [(RO, f"kill $(cat {HAND_PID}); rm -f {HAND_PID}; {wait_port(8081, present=False)}; "
                f"systemctl start omero-ms-image-region && {wait_port(8081)}")]),
    Fault("microservice-stopped", "the image-region microservice is stopped on a read-only server",
          ["IDR-SYS-01", "MSIR-SYS-01", "MSIR-HOST-04", "MSIR-MS-01", "MSIR-MS-02",
           *[f"MSIR-RENDER-{n:02d}" for n in range(1, 12)], "MSIR-DATA-02", "MSIR-MASK-01",
           "MSIR-ERR-03", "MSIR-ERR-04", "MSIR-ERR-06"],
          [(RO, "systemctl stop omero-ms-image-region")],
          [(RO, f"systemctl start omero-ms-image-region && {wait_port(8081)}")]),
    Fault("pg-data-dir-open", "the PostgreSQL data directory is readable by its group",
          ["IDR-DB-01"],
          [(DB, "chmod 0750 /var/lib/pgsql/15/data")], [(DB, "chmod 0700 /var/lib/pgsql/15/data")]),
    Fault("backup-job-not-executable", "the daily pg_dump job lost its execute bit (run-parts skips it)",
          ["OMERO-BACKUP-01"],
          [(DB, "chmod 0644 /etc/cron.daily/omero-pgdump")], [(DB, "chmod 0755 /etc/cron.daily/omero-pgdump")]),
    Fault("bioformats-cache-missing", "/data/BioFormatsCache was removed on the read-write server",
          ["IDR-DATA-02"],
          [(RW, "mv /data/BioFormatsCache /data/.BioFormatsCache.hidden")],
          [(RW, "mv /data/.BioFormatsCache.hidden /data/BioFormatsCache")]),
    Fault("data-not-a-volume", "/data on the read-write server is no longer a separate volume",
          ["IDR-DATA-01"], [(RW, "umount -l /data")], [], restart_after=[RW]),
    on_public_network(DB, "IDR-EXPO-01"),
    on_public_network(RO, "IDR-EXPO-02"),
    on_public_network(RW, "IDR-EXPO-03"),
    sed_fault("https-loopback-only", "the proxy's HTTPS listener is bound to loopback",
              ["IDR-EXPO-05"], PROXY, SERVERS_CONF, "listen 443 ssl", "listen 127.0.0.1:443 ssl",
              "systemctl restart nginx"),
    Fault("restart-policy-removed", "OMERO.web no longer restarts on failure",
          ["IDR-SYS-03"],
          [(RO, "mkdir -p /etc/systemd/system/omero-web.service.d && printf '[Service]\\nRestart=no\\n' > "
                "/etc/systemd/system/omero-web.service.d/zz-fault.conf && systemctl daemon-reload")],
          [(RO, "rm -f /etc/systemd/system/omero-web.service.d/zz-fault.conf && systemctl daemon-reload")]),
    Fault("failed-unit", "a unit on the proxy has failed",
          ["IDR-SYS-04"],
          [(PROXY, "systemd-run --unit=deploycheck-broken --property=Type=oneshot false; true")],
          [(PROXY, "systemctl reset-failed deploycheck-broken")]),
    Fault("nginx-config-broken-on-disk", "a syntax error waits in the proxy's nginx configuration",
          ["IDR-NGINX-01"],
          [(PROXY, "echo 'server { listen 81 }' > /etc/nginx/conf.d/zz-broken.conf")],
          [(PROXY, "rm -f /etc/nginx/conf.d/zz-broken.conf")]),
    Fault("cache-not-a-volume", "/var/cache/nginx on the proxy is no longer its own volume",
          ["IDR-PROXY-03"], [(PROXY, "umount -l /var/cache/nginx")], [], restart_after=[PROXY]),
    Fault("cache-dir-wrong-owner", "the proxy cache directory belongs to root",
          ["IDR-PROXY-04"],
          [(PROXY, "chown root:root /var/cache/nginx")], [(PROXY, "chown www-data:www-data /var/cache/nginx")]),
    Fault("hosts-missing-readonly", "the proxy's /etc/hosts lost a read-only server",
          ["IDR-PROXY-05"],
          [(PROXY, "grep -v idr-omeroreadonly-1 /etc/hosts > /tmp/hosts && cat /tmp/hosts > /etc/hosts")],
          [(PROXY, "/usr/local/sbin/idr-proxy-backends")]),
    Fault("stale-upstream", "a decommissioned read-only server is still in the proxy's upstream",
          ["IDR-PROXY-06"],
          [(PROXY, f"echo '127.0.0.2 idr-omeroreadonly-2' >> /etc/hosts && sed -i "
                   f"'s|ip_hash;|ip_hash;\\n    server idr-omeroreadonly-2:80;|' {UPSTREAMS}")],
          [(PROXY, "grep -v idr-omeroreadonly-2 /etc/hosts > /tmp/hosts && cat /tmp/hosts > /etc/hosts && "
                   "/usr/local/sbin/idr-proxy-backends")]),
    sed_fault("access-log-without-cache-status", "the proxy logs in the combined format (no cache status)",
              ["IDR-PROXY-07"], PROXY, "/etc/nginx/nginx.conf", "access.log main_timed_cache_upstream;",
              "access.log combined;", "nginx -s reload"),
    sed_fault("rsync-module-writable", "the public rsync module accepts uploads",
              ["IDR-PROXY-08"], PROXY, "/etc/rsyncd.conf", "read only = yes", "read only = no"),
    sed_fault("ssh-passwords-allowed", "sshd on the proxy accepts passwords",
              ["IDR-SSH-01"], PROXY, "/etc/ssh/sshd_config.d/idr.conf", "PasswordAuthentication no",
              "PasswordAuthentication yes"),
    Fault("binary-repository-read-only", "the binary repository is no longer writable by OMERO",
          ["IDR-DATA-03", "MSIR-HOST-01"],
          [(RW, "chmod 0555 /data/OMERO")], [(RW, "chmod 0755 /data/OMERO")]),
    Fault("binary-repository-world-writable", "a pixels file is world-writable",
          ["IDR-DATA-04"],
          [(RW, "chmod 0666 /data/OMERO/Pixels/1")], [(RW, "chmod 0644 /data/OMERO/Pixels/1")]),
    Fault("readonly-no-statement-timeout", "the read-only role lost its statement timeout",
          ["IDR-DB-02"],
          [(DB, psql("ALTER ROLE omeroreadonly RESET statement_timeout"))],
          [(DB, psql("ALTER ROLE omeroreadonly SET statement_timeout = '1s'"))]),
    Fault("readonly-may-write", "the read-only role was granted UPDATE on image",
          ["IDR-DB-03"],
          [(DB, psql("GRANT UPDATE ON image TO omeroreadonly"))],
          [(DB, psql("REVOKE UPDATE ON image FROM omeroreadonly"))]),
    Fault("orphan-fileset", "a fileset without images (a failed import) is in the database",
          ["IDR-DB-04"],
          [(DB, psql("INSERT INTO fileset VALUES (9999, 'failed-import/')"))],
          [(DB, psql("DELETE FROM fileset WHERE id = 9999"))]),
    Fault("empty-plate", "a plate without well samples is in the database",
          ["IDR-DB-05"],
          [(DB, psql("INSERT INTO plate VALUES (9999, 'empty plate')"))],
          [(DB, psql("DELETE FROM plate WHERE id = 9999"))]),
    Fault("stale-dumps", "the daily dump stopped running three days ago",
          ["OMERO-BACKUP-02"],
          [(DB, f"touch -d '3 days ago' {DUMPS}/*.pg_dump")], [(DB, f"touch {DUMPS}/*.pg_dump")]),
    Fault("corrupt-newest-dump", "the newest dump is not a pg_dump archive (disk full during the dump)",
          ["OMERO-BACKUP-03", "OMERO-BACKUP-06"],
          [(DB, f"head -c 4096 /dev/urandom > {DUMPS}/omero.9999-fault.pg_dump && "
                f"chown postgres:postgres {DUMPS}/omero.9999-fault.pg_dump && chmod 0600 {DUMPS}/*.pg_dump")],
          [(DB, f"rm -f {DUMPS}/omero.9999-fault.pg_dump")],
          pytest_args=["--allow-disruptive"]),
    Fault("dump-world-readable", "database dumps are readable by every user",
          ["OMERO-BACKUP-04"],
          [(DB, f"chmod 0644 {DUMPS}/*.pg_dump")], [(DB, f"chmod 0600 {DUMPS}/*.pg_dump")]),
    Fault("config-backup-readable", "the configuration backup (with passwords) is readable by every user",
          ["OMERO-BACKUP-05"],
          [(RW, "chmod 0644 /data/OMERO/backup/omero.config")], [(RW, "chmod 0600 /data/OMERO/backup/omero.config")]),
    Fault("binary-backup-job-narrowed", "the daily binary-repository backup only copies its backup folder",
          ["OMERO-BACKUP-07"],
          [(RW, "sed -i 's|^FROM=/data/OMERO$|FROM=/data/OMERO/backup|' /usr/local/sbin/omero-binary-backup")],
          [(RW, "sed -i 's|^FROM=/data/OMERO/backup$|FROM=/data/OMERO|' /usr/local/sbin/omero-binary-backup")]),
    Fault("binary-backup-job-only-cleans", "the job naming the binary repository only deletes temporary files",
          ["OMERO-BACKUP-07"],
          [(RW, "sed -i 's|^rdiff-backup --terminal-verbosity 1 backup \"$FROM\" \"$TO\"$|"
                "find \"$FROM\" -name \"*.tmp\" -delete|' /usr/local/sbin/omero-binary-backup && "
                "! grep -q '^rdiff-backup' /usr/local/sbin/omero-binary-backup")],
          [(RW, "sed -i 's|^find \"$FROM\" -name \"\\*.tmp\" -delete$|"
                "rdiff-backup --terminal-verbosity 1 backup \"$FROM\" \"$TO\"|' /usr/local/sbin/omero-binary-backup && "
                "grep -q '^rdiff-backup' /usr/local/sbin/omero-binary-backup")]),
    Fault("binary-backup-stale", "the binary repository's backup has not run for three days",
          ["OMERO-BACKUP-08"],
          [(RW, "find /mnt/backup_server/omero -exec touch -h -d '3 days ago' {} +")],
          [(RW, "/etc/cron.daily/omero-binary-backup")]),
    Fault("binary-backup-corrupt", "the backup copy of an image's pixels is corrupted",
          ["OMERO-BACKUP-09"],
          [(RW, "dd if=/dev/zero of=/mnt/backup_server/omero/Pixels/1 bs=1024 count=1 conv=notrunc status=none")],
          [(RW, "cp -p /data/OMERO/Pixels/1 /mnt/backup_server/omero/Pixels/1")],
          pytest_args=["--allow-disruptive"]),
    Fault("memo-regen-incomplete", "the last memo-file regeneration did not finish",
          ["MSIR-MEMO-01"],
          [(RW, f"r=$(ls -dt {MEMO}/rslt.* | head -n 1) && mv $r/timed $r/timed.fault")],
          [(RW, f"r=$(ls -dt {MEMO}/rslt.* | head -n 1) && mv $r/timed.fault $r/timed")]),
    Fault("memo-tools-missing", "GNU parallel is gone from the host that regenerates memo files",
          ["MSIR-MEMO-03"],
          [(RW, "mv /usr/bin/parallel /usr/bin/parallel.deploycheck-fault")],
          [(RW, "mv /usr/bin/parallel.deploycheck-fault /usr/bin/parallel")]),
    Fault("memo-regen-failures", "memo files failed for images whose pixels are gone from disk",
          ["MSIR-MEMO-02"],
          [(RW, "mv /data/OMERO/Pixels/5 /data/OMERO/Pixels/.5.fault && runuser -u omero-server -- env "
                "$(grep -v '^#' /etc/omero/omero.env | xargs) PYTHONPATH=/opt/omero/src python3 -m idrstub.memoregen "
                f"--out {MEMO} > /run/deploycheck-fault.memo; mv /data/OMERO/Pixels/.5.fault /data/OMERO/Pixels/5")],
          [(RW, "rm -rf \"$(cat /run/deploycheck-fault.memo)\" && rm -f /run/deploycheck-fault.memo")]),
    Fault("web-file-sessions", "OMERO.web keeps sessions in files, which the microservice cannot read",
          ["MSIR-HOST-02"],
          [(RO, "echo OMERO_WEB_SESSION_ENGINE=django.contrib.sessions.backends.file >> /etc/omero/omero.env && "
                f"systemctl restart omero-web && {wait_port(4080)}")],
          [(RO, "sed -i '/OMERO_WEB_SESSION_ENGINE/d' /etc/omero/omero.env && systemctl restart omero-web && "
                f"{wait_port(4080)}")]),
    sed_fault("nginx-bypasses-microservice", "the read-only server's nginx no longer routes renders to the "
              "microservice", ["MSIR-HOST-03", "MSIR-MS-01", "MSIR-MS-02", "MSIR-MS-03", "MSIR-ERR-01",
                               "MSIR-ERR-02", "MSIR-ERR-05"], RO, WEB_CONF, MS_INCLUDE, "# @MS_ROUTES@",
              "nginx -s reload"),
    sed_fault("metadata-not-cached", "metadata panes dropped from the cache allow-list", ["IDR-CACHE-03"],
              PROXY, CACHE_CONF, '"~web(client|gateway)/(metadata|render)_\\*" 0;',
              '"~web(client|gateway)/(render)_\\*" 0;', "nginx -s reload"),
    sed_fault("api-not-cached", "the JSON api dropped from the cache allow-list", ["IDR-CACHE-04", "IDR-CACHE-07"],
              PROXY, CACHE_CONF, '"~(webclient/)?api/\\*" 0;', '"~(webclient/)?api/\\*" 1;', "nginx -s reload"),
    sed_fault("static-not-cached", "static files dropped from the cache allow-list", ["IDR-CACHE-05"],
              PROXY, CACHE_CONF, '"~static/\\*" 0;', '"~static/\\*" 1;', "nginx -s reload"),
    sed_fault("viewers-not-cached", "image viewer pages dropped from the cache allow-list", ["IDR-CACHE-06"],
              PROXY, CACHE_CONF, '"~webclient/img_detail/\\*" 0;', '"~webclient/img_detail/\\*" 1;',
              "nginx -s reload"),
    sed_fault("cache-key-keeps-underscore", "the cache key is the raw request URI (jQuery's _= included)",
              ["IDR-CACHE-07"], PROXY, CACHED_INC, "proxy_cache_key $cache_key;", "proxy_cache_key $request_uri;",
              "nginx -s reload"),
    Fault("pages-cached", "OMERO.web pages and uncached URIs go through the cache too, ignoring cookies",
          ["IDR-CACHE-08", "IDR-CACHE-09", "IDR-LEAK-01"],
          [(PROXY, "printf 'proxy_cache omero;\\nproxy_cache_key $cache_key;\\nproxy_cache_valid 200 1d;\\n"
                   "proxy_ignore_headers Set-Cookie Vary Expires;\\n' >> "
                   f"{UNCACHED_INC} && nginx -s reload")],
          [(PROXY, f"sed -i -e '/^proxy_cache/d' -e '/^proxy_ignore_headers/d' {UNCACHED_INC} && nginx -s reload")]),
    sed_fault("set-cookie-passed", "the proxy passes the backend's Set-Cookie on cached URIs", ["IDR-CACHE-10"],
              PROXY, CACHED_INC, "proxy_hide_header Set-Cookie;", "# proxy_hide_header Set-Cookie;",
              "nginx -s reload"),
    sed_fault("errors-cached", "the proxy caches every status, 404 included", ["IDR-CACHE-11"],
              PROXY, CACHED_INC, "proxy_cache_valid 200 1d;", "proxy_cache_valid any 1d;", "nginx -s reload"),
    sed_fault("cors-missing", "the proxy no longer sends Access-Control-Allow-Origin", ["IDR-CORS-01"],
              PROXY, COMMON_INC, "add_header Access-Control-Allow-Origin", "# add_header Access-Control-Allow-Origin",
              "nginx -s reload"),
    sed_fault("prometheus-exposed", "OMERO.web's /django_prometheus is reachable through the proxy",
              ["IDR-PROM-01"], PROXY, COMMON_INC, "location ^~ /django_prometheus", "location ^~ /django_prometheus_x",
              "nginx -s reload"),
    Fault("public-user-disabled", "OMERO.web's public user is disabled on the read-only server",
          ["IDR-PUBLIC-01"],
          [(RO, "sed -i 's/OMERO_WEB_PUBLIC_ENABLED=true/OMERO_WEB_PUBLIC_ENABLED=false/' /etc/omero/omero.env && "
                f"systemctl restart omero-web && {wait_port(4080)}")],
          [(RO, "sed -i 's/OMERO_WEB_PUBLIC_ENABLED=false/OMERO_WEB_PUBLIC_ENABLED=true/' /etc/omero/omero.env && "
                f"systemctl restart omero-web && {wait_port(4080)}")]),
    sed_fault("cachebuster-not-bypassing", "the cache-buster port serves from the cache like port 80",
              ["IDR-BUSTER-01", "IDR-BUSTER-03"], PROXY, CACHE_CONF, "9000 1;", "9000 $skip_cache;",
              "nginx -s reload", pytest_args=["--allow-disruptive"]),
    Fault("cachebuster-to-readonly", "the cache-buster port fetches from the read-only servers",
          ["IDR-BUSTER-02"],
          [(PROXY, f"sed -i '/listen 127.0.0.1:9000;/,/}}/ s/omeroreadwrite;/omeroreadonly;/' {SERVERS_CONF} && "
                   "nginx -s reload")],
          [(PROXY, f"sed -i '/listen 127.0.0.1:9000;/,/}}/ s/omeroreadonly;/omeroreadwrite;/' {SERVERS_CONF} && "
                   "nginx -s reload")]),
    Fault("longquery-to-readonly", "port 8009 sends long queries to the read-only servers (statement timeout)",
          ["IDR-LONGQ-01"],
          [(PROXY, f"sed -i '/listen 127.0.0.1:8009;/,/}}/ s/omeroreadwrite;/omeroreadonly;/' {SERVERS_CONF} && "
                   "nginx -s reload")],
          [(PROXY, f"sed -i '/listen 127.0.0.1:8009;/,/}}/ s/omeroreadonly;/omeroreadwrite;/' {SERVERS_CONF} && "
                   "nginx -s reload")]),
    sed_fault("maintenance-page-missing", "the flag gives nginx's bare 503 instead of the maintenance page",
              ["IDR-MAINT-02"], PROXY, "/etc/nginx/idr/maintenance.inc", "error_page 503",
              "# error_page 503", "nginx -s reload", pytest_args=["--allow-disruptive"]),
    sed_fault("login-reachable", "the proxy serves OMERO.web's login page", ["IDR-LOGIN-01", "IDR-LOGIN-02"],
              PROXY, COMMON_INC, "location ^~ /webclient/login {", "location ^~ /webclient/login_x {",
              "nginx -s reload"),
    Fault("self-signed-certificate", "the proxy serves a self-signed fallback certificate",
          ["IDR-TLS-01"],
          [(PROXY, "cp /etc/nginx/ssl/idr.crt /root/idr.crt.orig && cp /etc/nginx/ssl/idr.key /root/idr.key.orig && "
                   "openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=localhost "
                   "-keyout /etc/nginx/ssl/idr.key -out /etc/nginx/ssl/idr.crt 2>/dev/null && nginx -s reload")],
          [(PROXY, "cp /root/idr.crt.orig /etc/nginx/ssl/idr.crt && cp /root/idr.key.orig /etc/nginx/ssl/idr.key && "
                   "nginx -s reload")]),
    sed_fault("old-tls-enabled", "the proxy accepts TLS 1.0 and 1.1", ["IDR-TLS-02"], PROXY, SERVERS_CONF,
              "ssl_protocols TLSv1.2 TLSv1.3;",
              "ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3; ssl_ciphers DEFAULT:@SECLEVEL=0;", "nginx -s reload"),
    Fault("web-stopped", "OMERO.web is stopped on the read-only server",
          ["IDR-SYS-01", "MSIR-THUMB-01", "MSIR-THUMB-02", "MSIR-DATA-01"],
          [(RO, f"systemctl stop omero-web && {wait_port(4080, present=False)}")],
          [(RO, f"systemctl start omero-web && {wait_port(4080)}")]),
    Fault("pyramid-pixels-truncated", "the pyramid image's pixels file was truncated on disk",
          ["MSIR-RENDER-04"],
          [(RW, "cp -p /data/OMERO/Pixels/3 /root/pixels-3.orig && truncate -s 1M /data/OMERO/Pixels/3")],
          [(RW, "cp -p /root/pixels-3.orig /data/OMERO/Pixels/3 && rm -f /root/pixels-3.orig")]),
]


VIDJIL_SERVICES = ("nginx", "uwsgi", "workers", "fuse", "mysql", "backup")
V_NGINX, V_UWSGI, V_MYSQL, V_BACKUP = "vidjil:nginx", "vidjil:uwsgi", "vidjil:mysql", "vidjil:backup"
V_SITE = "/etc/nginx/conf.d/vidjil.conf"
V_MODEL = "/usr/share/vidjil/server/web2py/applications/vidjil/models/db.py"
ROOT_SQL = 'mysql -uroot -p"$MYSQL_ROOT_PASSWORD" vidjil -e'
V_OVERRIDE = ROOT / "selftests" / "vidjil-fault-override.yml"


def vsql(sql: str) -> str:
    return f"{ROOT_SQL} {shlex.quote(sql)}"


def wait_health(state: str) -> str:
    """Engine command polling (bounded, 30 s) until mysql's health is ``state``."""
    return (f"for i in $(seq 60); do [ \"$(docker inspect -f '{{{{.State.Health.Status}}}}' {{mysql}})\" = {state} ] "
            "&& break; sleep 0.5; done")


def vidjil(name: str, description: str, expected: list[str], apply: list[tuple[str, str]],
           revert: list[tuple[str, str]], **kwargs) -> Fault:
    return Fault(name, description, expected, apply, revert, stack="vidjil", **kwargs)


VIDJIL_FAULTS = [
    vidjil("vidjil-fuse-stopped", "the fuse service is stopped", ["VIDJIL-CTR-01"],
           [(DOCKER, "stop {fuse}")], [(DOCKER, "start {fuse}")]),
    vidjil("vidjil-no-restart-policy", "the workers service has no restart policy", ["VIDJIL-CTR-02"],
           [(DOCKER, "update --restart=no {workers}")], [(DOCKER, "update --restart=unless-stopped {workers}")]),
    vidjil("vidjil-mysql-unhealthy", "MySQL's healthcheck fails (its socket is gone)", ["VIDJIL-CTR-03"],
           [(V_MYSQL, "mv /run/mysqld/mysqld.sock /run/mysqld/fault.sock"),
            (V_MYSQL, "for i in $(seq 60); do mysqladmin ping -h localhost >/dev/null 2>&1 || break; sleep 0.2; done"),
            ("host", wait_health("unhealthy"))],
           [(V_MYSQL, "mv /run/mysqld/fault.sock /run/mysqld/mysqld.sock"), ("host", wait_health("healthy"))]),
    vidjil("vidjil-http-served", "plain HTTP serves the site instead of redirecting", ["VIDJIL-HTTP-01"],
           [(V_NGINX, f"sed -i 's%return 301 https://$host$request_uri;%root /usr/share/vidjil/browser;%' {V_SITE}"
                      " && nginx -s reload")],
           [(V_NGINX, f"sed -i 's%root /usr/share/vidjil/browser; }}%return 301 https://$host$request_uri; }}%' "
                      f"{V_SITE} && nginx -s reload")]),
    vidjil("vidjil-old-tls", "nginx accepts TLS 1.0 and 1.1", ["VIDJIL-TLS-01"],
           [(V_NGINX, f"sed -i 's%ssl_protocols TLSv1.2 TLSv1.3;%ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3; "
                      f"ssl_ciphers DEFAULT:@SECLEVEL=0;%' {V_SITE} && nginx -s reload")],
           [(V_NGINX, f"sed -i 's%ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3; ssl_ciphers DEFAULT:@SECLEVEL=0;%"
                      f"ssl_protocols TLSv1.2 TLSv1.3;%' {V_SITE} && nginx -s reload")]),
    vidjil("vidjil-self-signed", "nginx serves the image's self-signed fallback certificate",
           ["VIDJIL-TLS-02", "VIDJIL-TLS-03"],
           [(V_NGINX, "cp /etc/nginx/ssl/web2py.crt /root/crt.orig && cp /etc/nginx/ssl/web2py.key /root/key.orig && "
                      "openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=localhost -keyout "
                      "/etc/nginx/ssl/web2py.key -out /etc/nginx/ssl/web2py.crt 2>/dev/null && nginx -s reload")],
           [(V_NGINX, "cp /root/crt.orig /etc/nginx/ssl/web2py.crt && cp /root/key.orig /etc/nginx/ssl/web2py.key && "
                      "nginx -s reload")]),
    vidjil("vidjil-default-admin", "the documented default admin plop@plop.com / 1234 exists", ["VIDJIL-AUTH-01"],
           [(V_UWSGI, "python3 -c \"from vidjilstub import db; c = db.connect(); c.cursor().execute("
                      "'INSERT INTO auth_user (first_name, last_name, email, password) VALUES (%s, %s, %s, %s)', "
                      "('System', 'Administrator', 'plop@plop.com', db.web2py_hash('1234')))\"")],
           [(V_MYSQL, vsql("DELETE FROM auth_user WHERE email = 'plop@plop.com'"))]),
    vidjil("vidjil-no-user", "the database has no user yet: init_db is open to anyone", ["VIDJIL-AUTH-02"],
           [(V_MYSQL, vsql("CREATE TABLE auth_user_fault AS SELECT * FROM auth_user; DELETE FROM auth_user"))],
           [(V_MYSQL, vsql("INSERT INTO auth_user SELECT * FROM auth_user_fault; DROP TABLE auth_user_fault"))]),
    vidjil("vidjil-session-injected", "nginx forwards a fixed admin session cookie to the app", ["VIDJIL-AUTH-03"],
           [(V_MYSQL, vsql("INSERT INTO web2py_session_vidjil (user_id, unique_key) SELECT min(id), 'fault-session' "
                           "FROM auth_user")),
            (V_NGINX, f"sed -i 's%include uwsgi_params;%include uwsgi_params; "
                      f"uwsgi_param HTTP_COOKIE session_id_vidjil=fault-session;%' {V_SITE} && nginx -s reload")],
           [(V_NGINX, f"sed -i 's% uwsgi_param HTTP_COOKIE session_id_vidjil=fault-session;%%' {V_SITE} && "
                      "nginx -s reload"),
            (V_MYSQL, vsql("DELETE FROM web2py_session_vidjil WHERE unique_key = 'fault-session'"))]),
    vidjil("vidjil-workers-stopped", "the scheduler workers are stopped", ["VIDJIL-MON-01", "VIDJIL-CTR-01"],
           [(DOCKER, "stop {workers}")], [(DOCKER, "start {workers}")]),
    vidjil("vidjil-fuse-published", "the fuse port 12789 is published on the host", ["VIDJIL-NET-01"],
           [("compose:vidjil", f"-f {V_OVERRIDE} up -d --no-deps fuse")],
           [("compose:vidjil", "up -d --no-deps fuse")],
           ),
    vidjil("vidjil-too-many-workers", "as many scheduler workers as CPUs", ["VIDJIL-CFG-01"],
           [("compose:vidjil", f"-f {V_OVERRIDE} up -d --no-deps workers"),
            (V_MYSQL, "for i in $(seq 100); do [ $(" + ROOT_SQL + " 'SELECT count(*) FROM scheduler_worker' -N) -ge 4 ]"
                      " && break; sleep 0.1; done")],
           [("compose:vidjil", "up -d --no-deps workers")]),
    vidjil("vidjil-logs-in-container", "nginx's logs go to an anonymous volume, not the host folder",
           ["VIDJIL-VOL-01"],
           [("compose:vidjil", f"-f {V_OVERRIDE} up -d --no-deps nginx")],
           # removed with its anonymous volume (-v), so the fault leaves nothing behind
           [("compose:vidjil", "rm -s -f -v nginx"), ("compose:vidjil", "up -d --no-deps nginx")]),
    vidjil("vidjil-upload-read-only", "the upload folder is mounted read-only into uwsgi", ["VIDJIL-VOL-02"],
           [("compose:vidjil", f"-f {V_OVERRIDE} up -d --no-deps uwsgi")],
           [("compose:vidjil", "up -d --no-deps uwsgi")]),
    vidjil("vidjil-autodelete-on", "AUTODELETE is turned on in the app model", ["VIDJIL-CFG-02"],
           [(V_UWSGI, f"sed -i 's/^AUTODELETE = False/AUTODELETE = True/' {V_MODEL}")],
           [(V_UWSGI, f"sed -i 's/^AUTODELETE = True/AUTODELETE = False/' {V_MODEL}")]),
    vidjil("vidjil-germline-missing", "a germline file is missing from the client", ["VIDJIL-CFG-03"],
           [(V_NGINX, "mv /usr/share/vidjil/germline/IGHV.fa /root/IGHV.fa")],
           [(V_NGINX, "mv /root/IGHV.fa /usr/share/vidjil/germline/IGHV.fa")]),
    vidjil("vidjil-backup-cron-commented", "the backup cron line is commented out, as shipped", ["VIDJIL-BKP-01"],
           [(V_BACKUP, "sed -i 's/^33 2/# 33 2/' /etc/cron.d/vidjil-backup")],
           [(V_BACKUP, "sed -i 's/^# 33 2/33 2/' /etc/cron.d/vidjil-backup")]),
    vidjil("vidjil-backup-stale", "the newest backup is three days old", ["VIDJIL-BKP-02"],
           [(V_BACKUP, "touch -d '3 days ago' /mnt/backup/backup_*")], [(V_BACKUP, "touch /mnt/backup/backup_*")]),
    vidjil("vidjil-backup-user-writes", "the backup user was granted every privilege", ["VIDJIL-BKP-03"],
           [(V_MYSQL, vsql("GRANT ALL ON vidjil.* TO 'backup'@'%'"))],
           [(V_MYSQL, vsql("REVOKE ALL ON vidjil.* FROM 'backup'@'%'; "
                           "GRANT SELECT, LOCK TABLES, SHOW VIEW ON vidjil.* TO 'backup'@'%'"))]),
    vidjil("vidjil-shipped-root-password", "MySQL's network root account has the shipped password",
           ["VIDJIL-DB-01"],
           [(V_MYSQL, vsql("ALTER USER 'root'@'%' IDENTIFIED BY 'MySRPimSRP'"))],
           [(V_MYSQL, "mysql -uroot -p\"$MYSQL_ROOT_PASSWORD\" -e \"ALTER USER 'root'@'%' IDENTIFIED BY "
                      "'$MYSQL_ROOT_PASSWORD'\"")]),
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


def sh(target: str, command: str, timeout: float = 90) -> None:
    """Run a fault step: in a container, on the engine (``docker``), or a compose
    command (``compose:STACK``); ``vidjil:SERVICE`` names a compose service."""
    if target in (DOCKER, "host"):
        for service in VIDJIL_SERVICES:
            if f"{{{service}}}" in command:
                command = command.replace(f"{{{service}}}", service_container(STACKS["vidjil"], service))
        argv = ["docker", *shlex.split(command)] if target == DOCKER else ["sh", "-c", command]
    elif target.startswith("compose:"):
        argv = [*compose_cmd(STACKS[target.split(":", 1)[1]]), *shlex.split(command)]
    else:
        if target.startswith("vidjil:"):
            target = service_container(STACKS["vidjil"], target.split(":", 1)[1])
        argv = ["docker", "exec", target, "sh", "-c", command]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise StackError(f"{target}: '{command[:60]}...' failed: {done.stderr.strip()[:200]}")


def run_controls(inventory: str, reports: Path, extra: list[str] | None = None) -> list[str]:
    """Ids of the controls that failed or errored, on any host."""
    marks = [] if extra and "--allow-disruptive" in extra else ["-m", "not disruptive"]
    subprocess.run([sys.executable, "-m", "pytest", f"--inventory={inventory}", *marks, "-q", "-n", "2",
                    f"--reports-dir={reports}", *(extra or [])],
                   cwd=ROOT, capture_output=True, text=True, timeout=600)
    data = json.loads((reports / "controls.json").read_text())
    return sorted({c["id"] for c in data["controls"] if c["outcome"] in ("failed", "error")})


def all_control_ids(inventory: str, reports: Path) -> set[str]:
    """Controls that apply to this stack (skips for lack of hosts do not count)."""
    data = json.loads((reports / "controls.json").read_text())
    return {c["id"] for c in data["controls"] if ID_PATTERN.match(c["id"]) and c["host"] != "-"}


def run_fault(fault: Fault, inventory: str, scratch: Path) -> Result:
    started = time.monotonic()
    print(f"[faults] {fault.name}: {fault.description}", flush=True)
    try:
        for container, command in fault.apply:
            sh(container, command)
        failed = run_controls(inventory, scratch / fault.name, fault.pytest_args)
    finally:
        for container, command in fault.revert:
            sh(container, command)
        for container in fault.restart_after:
            subprocess.run(["docker", "restart", container], capture_output=True, timeout=120, check=True)
        wait_ready(STACKS[fault.stack], deadline_s=120)
    caught = set(fault.expected) <= set(failed)
    collateral = sorted(set(failed) - set(fault.expected))
    verdict = "caught" if caught else "NOT CAUGHT"
    print(f"[faults]   {verdict}: failed {failed or 'nothing'}"
          + (f" (collateral {collateral})" if collateral else ""), flush=True)
    return Result(fault.name, fault.description, fault.expected, failed, caught, collateral,
                  round(time.monotonic() - started, 2))


INVENTORIES = {"idr": "inventories/reference-idr.yml", "vidjil": "inventories/reference-vidjil.yml"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", choices=[*INVENTORIES, "all"], default="all")
    parser.add_argument("--only", nargs="*", help="run only these faults")
    parser.add_argument("--out", default="reports/faults.json")
    args = parser.parse_args(argv)
    stacks = list(INVENTORIES) if args.stack == "all" else [args.stack]
    results: list[Result] = []
    control_ids: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="deploycheck-faults-") as tmp:
        scratch = Path(tmp)
        for stack in stacks:
            inventory = INVENTORIES[stack]
            faults = [f for f in [*FAULTS, *VIDJIL_FAULTS]
                      if f.stack == stack and (not args.only or f.name in args.only)]
            if not faults:
                continue
            baseline = run_controls(inventory, scratch / f"baseline-{stack}")
            disruptive = run_controls(inventory, scratch / f"disruptive-{stack}", ["--allow-disruptive", "-m",
                                                                                  "disruptive"])
            if baseline or disruptive:
                print(f"[faults] the healthy {stack} stack already fails {baseline + disruptive}; fix that first",
                      file=sys.stderr)
                return 1
            control_ids |= all_control_ids(inventory, scratch / f"baseline-{stack}")
            control_ids |= all_control_ids(inventory, scratch / f"disruptive-{stack}")
            results += [run_fault(f, inventory, scratch) for f in faults]
            after = run_controls(inventory, scratch / f"after-{stack}")
            if after:
                print(f"[faults] reverting left the {stack} stack failing {after}", file=sys.stderr)
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
