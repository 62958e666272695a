"""The fault catalogue: for each control, the faults that must make it fail.

Per reference stack, a mapping from a control id to the faults meant to break
it, in control id order; each fault lists every control it makes fail (the
key among them). The commands are the ones tested against the reference
stacks; ``python -m selftests.faults --plan`` prints them expanded.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from selftests.faults.steps import Compose, Edit, Engine, Fault, Host, Run, Service

ROOT = Path(__file__).resolve().parents[2]

# IDR hosts (container names) and the files their faults touch
PROXY, RO, RW, DB = "idr-proxy", "idr-omeroreadonly-1", "idr-omeroreadwrite", "idr-database"
PUBLIC_NET = "deploycheck-idr_public"
SERVERS_CONF = "/etc/nginx/conf.d/servers.conf"
UPSTREAMS = "/etc/nginx/conf.d/upstreams.conf"
MS_CONF = "/opt/omero/omero-ms-image-region/conf/config.yaml"
WEB_CONF = "/etc/nginx/conf.d/omeroweb.conf"
CACHE_CONF = "/etc/nginx/conf.d/cache.conf"
CACHED_INC = "/etc/nginx/idr/cached-location.inc"
UNCACHED_INC = "/etc/nginx/idr/uncached-location.inc"
COMMON_INC = "/etc/nginx/idr/common-server.inc"
CORS_INC = "/etc/nginx/idr/cors.inc"
MS_INCLUDE = "include /etc/nginx/snippets/omero-ms-image-region.conf;"
DUMPS = "/var/lib/pgsql/backup/database"
MEMO = "/opt/omero/memo-regen"
HAND_PID = "/run/deploycheck-fault.pid"

# Vidjil compose services and the files their faults touch
V_NGINX = Service("vidjil", "nginx")
V_UWSGI = Service("vidjil", "uwsgi")
V_WORKERS = Service("vidjil", "workers")
V_FUSE = Service("vidjil", "fuse")
V_MYSQL = Service("vidjil", "mysql")
V_BACKUP = Service("vidjil", "backup")
V_SITE = "/etc/nginx/conf.d/vidjil.conf"
V_MODEL = "/usr/share/vidjil/server/web2py/applications/vidjil/models/db.py"
ROOT_SQL = 'mysql -uroot -p"$MYSQL_ROOT_PASSWORD" vidjil -e'
V_OVERRIDE = ROOT / "selftests" / "vidjil-fault-override.yml"  # services recreated with other settings


def wait_port(port: int, present: bool = True) -> str:
    """Shell: poll (bounded, 5 s) until a TCP port listens, or no longer does."""
    test = f"ss -Htln | grep -q ':{port} '"
    return f"for i in $(seq 50); do {test if present else '! ' + test} && break; sleep 0.1; done"


def psql(sql: str) -> str:
    """Shell: one SQL statement on the OMERO database, as postgres."""
    return f"su postgres -c \"psql -X -q -d omero -c \\\"{sql}\\\"\""


def vsql(sql: str) -> str:
    """Shell: SQL on the Vidjil database, as MySQL's root."""
    return f"{ROOT_SQL} {shlex.quote(sql)}"


def wait_health(state: str) -> Host:
    """Poll (bounded, 30 s) until MySQL's healthcheck reports ``state``."""
    return Host("for i in $(seq 60); do [ \"$(docker inspect -f '{{.State.Health.Status}}' {container})\" = "
                f"{state} ] && break; sleep 0.5; done", V_MYSQL)


IDR: dict[str, list[Fault]] = {
    "IDR-BUSTER-01": [
        Fault("cachebuster-not-bypassing", "the cache-buster port serves from the cache like port 80",
              ["IDR-BUSTER-01", "IDR-BUSTER-03"],
              apply=[Edit(PROXY, CACHE_CONF, "9000 1;", "9000 $skip_cache;", then="nginx -s reload")],
              pytest_args=["--allow-disruptive"]),
    ],
    "IDR-BUSTER-02": [
        Fault("cachebuster-to-readonly", "the cache-buster port fetches from the read-only servers",
              ["IDR-BUSTER-02"],
              apply=[Run(PROXY, f"sed -i '/listen 127.0.0.1:9000;/,/}}/ s/omeroreadwrite;/omeroreadonly;/' "
                                f"{SERVERS_CONF} && nginx -s reload")],
              revert=[Run(PROXY, f"sed -i '/listen 127.0.0.1:9000;/,/}}/ s/omeroreadonly;/omeroreadwrite;/' "
                                 f"{SERVERS_CONF} && nginx -s reload")]),
    ],
    "IDR-CACHE-01": [
        Fault("ms-cache-control-private", "the microservice sends its shipped 'Cache-Control: private' header",
              ["IDR-CACHE-01"],
              apply=[Edit(RO, MS_CONF, "public, max-age=86400", "private, max-age=3600",
                          then=f"systemctl restart omero-ms-image-region && {wait_port(8081)}")]),
    ],
    "IDR-CACHE-02": [
        Fault("set-cookie-not-ignored", "the proxy no longer ignores the backend's Set-Cookie for caching",
              ["IDR-CACHE-02"],
              apply=[Edit(PROXY, CACHED_INC, 'proxy_ignore_headers "Set-Cookie" "Vary"', 'proxy_ignore_headers "Vary"',
                          then="nginx -s reload")]),
    ],
    "IDR-CACHE-03": [
        Fault("metadata-not-cached", "metadata panes dropped from the cache allow-list", ["IDR-CACHE-03"],
              apply=[Edit(PROXY, CACHE_CONF, '"~web(client|gateway)/(metadata|render)_\\*" 0;',
                          '"~web(client|gateway)/(render)_\\*" 0;', then="nginx -s reload")]),
    ],
    "IDR-CACHE-04": [
        Fault("api-not-cached", "the JSON api dropped from the cache allow-list", ["IDR-CACHE-04", "IDR-CACHE-07"],
              apply=[Edit(PROXY, CACHE_CONF, '"~(webclient/)?api/\\*" 0;', '"~(webclient/)?api/\\*" 1;',
                          then="nginx -s reload")]),
    ],
    "IDR-CACHE-05": [
        Fault("static-not-cached", "static files dropped from the cache allow-list", ["IDR-CACHE-05"],
              apply=[Edit(PROXY, CACHE_CONF, '"~static/\\*" 0;', '"~static/\\*" 1;', then="nginx -s reload")]),
    ],
    "IDR-CACHE-06": [
        Fault("viewers-not-cached", "image viewer pages dropped from the cache allow-list", ["IDR-CACHE-06"],
              apply=[Edit(PROXY, CACHE_CONF, '"~webclient/img_detail/\\*" 0;', '"~webclient/img_detail/\\*" 1;',
                          then="nginx -s reload")]),
    ],
    "IDR-CACHE-07": [
        Fault("cache-key-keeps-underscore", "the cache key is the raw request URI (jQuery's _= included)",
              ["IDR-CACHE-07"],
              apply=[Edit(PROXY, CACHED_INC, "proxy_cache_key $cache_key;", "proxy_cache_key $request_uri;",
                          then="nginx -s reload")]),
    ],
    "IDR-CACHE-08": [
        Fault("pages-cached", "OMERO.web pages and uncached URIs go through the cache too, ignoring cookies",
              ["IDR-CACHE-08", "IDR-CACHE-09", "IDR-LEAK-01"],
              apply=[Run(PROXY, "printf 'proxy_cache omero;\\nproxy_cache_key $cache_key;\\n"
                                "proxy_cache_valid 200 1d;\\nproxy_ignore_headers Set-Cookie Vary Expires;\\n' >> "
                                f"{UNCACHED_INC} && nginx -s reload")],
              revert=[Run(PROXY, f"sed -i -e '/^proxy_cache/d' -e '/^proxy_ignore_headers/d' {UNCACHED_INC} && "
                                 "nginx -s reload")]),
    ],
    "IDR-CACHE-10": [
        Fault("set-cookie-passed", "the proxy passes the backend's Set-Cookie on cached URIs", ["IDR-CACHE-10"],
              apply=[Edit(PROXY, CACHED_INC, "proxy_hide_header Set-Cookie;", "# proxy_hide_header Set-Cookie;",
                          then="nginx -s reload")]),
    ],
    "IDR-CACHE-11": [
        Fault("errors-cached", "the proxy caches every status, 404 included", ["IDR-CACHE-11"],
              apply=[Edit(PROXY, CACHED_INC, "proxy_cache_valid 200 1d;", "proxy_cache_valid any 1d;",
                          then="nginx -s reload")]),
    ],
    "IDR-CORS-01": [
        Fault("cors-missing", "the proxy no longer sends Access-Control-Allow-Origin", ["IDR-CORS-01"],
              apply=[Edit(PROXY, CORS_INC, "add_header Access-Control-Allow-Origin",
                          "# add_header Access-Control-Allow-Origin", then="nginx -s reload")]),
    ],
    "IDR-DATA-01": [
        Fault("data-not-a-volume", "/data on the read-write server is no longer a separate volume",
              ["IDR-DATA-01"],
              apply=[Run(RW, "umount -l /data")], revert=[], restart_after=[RW]),
    ],
    "IDR-DATA-02": [
        Fault("bioformats-cache-missing", "/data/BioFormatsCache was removed on the read-write server",
              ["IDR-DATA-02"],
              apply=[Run(RW, "mv /data/BioFormatsCache /data/.BioFormatsCache.hidden")],
              revert=[Run(RW, "mv /data/.BioFormatsCache.hidden /data/BioFormatsCache")]),
    ],
    "IDR-DATA-03": [
        Fault("binary-repository-read-only", "the binary repository is no longer writable by OMERO",
              ["IDR-DATA-03", "MSIR-HOST-01"],
              apply=[Run(RW, "chmod 0555 /data/OMERO")], revert=[Run(RW, "chmod 0755 /data/OMERO")]),
    ],
    "IDR-DATA-04": [
        Fault("binary-repository-world-writable", "a pixels file is world-writable",
              ["IDR-DATA-04"],
              apply=[Run(RW, "chmod 0666 /data/OMERO/Pixels/1")], revert=[Run(RW, "chmod 0644 /data/OMERO/Pixels/1")]),
    ],
    "IDR-DB-01": [
        Fault("pg-data-dir-open", "the PostgreSQL data directory is readable by its group",
              ["IDR-DB-01"],
              apply=[Run(DB, "chmod 0750 /var/lib/pgsql/15/data")],
              revert=[Run(DB, "chmod 0700 /var/lib/pgsql/15/data")]),
    ],
    "IDR-DB-02": [
        Fault("readonly-no-statement-timeout", "the read-only role lost its statement timeout",
              ["IDR-DB-02"],
              apply=[Run(DB, psql("ALTER ROLE omeroreadonly RESET statement_timeout"))],
              revert=[Run(DB, psql("ALTER ROLE omeroreadonly SET statement_timeout = '1s'"))]),
    ],
    "IDR-DB-03": [
        Fault("readonly-may-write", "the read-only role was granted UPDATE on image",
              ["IDR-DB-03"],
              apply=[Run(DB, psql("GRANT UPDATE ON image TO omeroreadonly"))],
              revert=[Run(DB, psql("REVOKE UPDATE ON image FROM omeroreadonly"))]),
    ],
    "IDR-DB-04": [
        Fault("orphan-fileset", "a fileset without images (a failed import) is in the database",
              ["IDR-DB-04"],
              apply=[Run(DB, psql("INSERT INTO fileset VALUES (9999, 'failed-import/')"))],
              revert=[Run(DB, psql("DELETE FROM fileset WHERE id = 9999"))]),
    ],
    "IDR-DB-05": [
        Fault("empty-plate", "a plate without well samples is in the database",
              ["IDR-DB-05"],
              apply=[Run(DB, psql("INSERT INTO plate VALUES (9999, 'empty plate')"))],
              revert=[Run(DB, psql("DELETE FROM plate WHERE id = 9999"))]),
    ],
    "IDR-EXPO-01": [
        Fault("idr-database-on-public-network", "idr-database got an interface on the public network",
              ["IDR-EXPO-01"], apply=[Engine(f"network connect {PUBLIC_NET}", DB)]),
    ],
    "IDR-EXPO-02": [
        Fault("idr-omeroreadonly-1-on-public-network", "idr-omeroreadonly-1 got an interface on the public network",
              ["IDR-EXPO-02"], apply=[Engine(f"network connect {PUBLIC_NET}", RO)]),
    ],
    "IDR-EXPO-03": [
        Fault("idr-omeroreadwrite-on-public-network", "idr-omeroreadwrite got an interface on the public network",
              ["IDR-EXPO-03"], apply=[Engine(f"network connect {PUBLIC_NET}", RW)]),
    ],
    "IDR-EXPO-05": [
        Fault("https-loopback-only", "the proxy's HTTPS listener is bound to loopback",
              ["IDR-EXPO-05"],
              apply=[Edit(PROXY, SERVERS_CONF, "listen 443 ssl", "listen 127.0.0.1:443 ssl",
                          then="systemctl restart nginx")]),
    ],
    "IDR-LOGIN-01": [
        Fault("login-reachable", "the proxy serves OMERO.web's login page", ["IDR-LOGIN-01", "IDR-LOGIN-02"],
              apply=[Edit(PROXY, COMMON_INC, "location ^~ /webclient/login {", "location ^~ /webclient/login_x {",
                          then="nginx -s reload")]),
    ],
    "IDR-LONGQ-01": [
        Fault("longquery-to-readonly", "port 8009 sends long queries to the read-only servers (statement timeout)",
              ["IDR-LONGQ-01"],
              apply=[Run(PROXY, f"sed -i '/listen 127.0.0.1:8009;/,/}}/ s/omeroreadwrite;/omeroreadonly;/' "
                                f"{SERVERS_CONF} && nginx -s reload")],
              revert=[Run(PROXY, f"sed -i '/listen 127.0.0.1:8009;/,/}}/ s/omeroreadonly;/omeroreadwrite;/' "
                                 f"{SERVERS_CONF} && nginx -s reload")]),
    ],
    "IDR-MAINT-01": [
        Fault("maintenance-flag-left", "the maintenance flag is left on the proxy after a deploy",
              ["IDR-MAINT-01"],
              apply=[Run(PROXY, "touch /srv/www/omero-maintenance.flag")],
              revert=[Run(PROXY, "rm -f /srv/www/omero-maintenance.flag")]),
    ],
    "IDR-MAINT-02": [
        Fault("maintenance-page-missing", "the flag gives nginx's bare 503 instead of the maintenance page",
              ["IDR-MAINT-02"],
              apply=[Edit(PROXY, "/etc/nginx/idr/maintenance.inc", "error_page 503", "# error_page 503",
                          then="nginx -s reload")],
              pytest_args=["--allow-disruptive"]),
    ],
    "IDR-NGINX-01": [
        Fault("nginx-config-broken-on-disk", "a syntax error waits in the proxy's nginx configuration",
              ["IDR-NGINX-01"],
              apply=[Run(PROXY, "echo 'server { listen 81 }' > /etc/nginx/conf.d/zz-broken.conf")],
              revert=[Run(PROXY, "rm -f /etc/nginx/conf.d/zz-broken.conf")]),
    ],
    "IDR-PROM-01": [
        Fault("prometheus-exposed", "OMERO.web's /django_prometheus is reachable through the proxy",
              ["IDR-PROM-01"],
              apply=[Edit(PROXY, COMMON_INC, "location ^~ /django_prometheus", "location ^~ /django_prometheus_x",
                          then="nginx -s reload")]),
    ],
    "IDR-PROXY-01": [
        Fault("stray-public-listener", "an unexpected service listens publicly on the proxy (port 8080)",
              ["IDR-PROXY-01"],
              apply=[Run(PROXY, "systemd-run --unit=deploycheck-stray --property=WorkingDirectory=/srv/www/html "
                                f"python3 -m http.server 8080 && {wait_port(8080)}")],
              revert=[Run(PROXY, "systemctl stop deploycheck-stray")]),
    ],
    "IDR-PROXY-02": [
        Fault("cachebuster-public", "the cache-buster port 9000 listens on all interfaces",
              ["IDR-PROXY-02", "IDR-PROXY-01", "IDR-EXPO-04"],
              apply=[Edit(PROXY, SERVERS_CONF, "listen 127.0.0.1:9000;", "listen 9000;",
                          then="systemctl restart nginx")]),
    ],
    "IDR-PROXY-03": [
        Fault("cache-not-a-volume", "/var/cache/nginx on the proxy is no longer its own volume",
              ["IDR-PROXY-03"],
              apply=[Run(PROXY, "umount -l /var/cache/nginx")], revert=[], restart_after=[PROXY]),
    ],
    "IDR-PROXY-04": [
        Fault("cache-dir-wrong-owner", "the proxy cache directory belongs to root",
              ["IDR-PROXY-04"],
              apply=[Run(PROXY, "chown root:root /var/cache/nginx")],
              revert=[Run(PROXY, "chown www-data:www-data /var/cache/nginx")]),
    ],
    "IDR-PROXY-05": [
        Fault("hosts-missing-readonly", "the proxy's /etc/hosts lost a read-only server",
              ["IDR-PROXY-05"],
              apply=[Run(PROXY, "grep -v idr-omeroreadonly-1 /etc/hosts > /tmp/hosts && cat /tmp/hosts > /etc/hosts")],
              revert=[Run(PROXY, "/usr/local/sbin/idr-proxy-backends")]),
    ],
    "IDR-PROXY-06": [
        Fault("stale-upstream", "a decommissioned read-only server is still in the proxy's upstream",
              ["IDR-PROXY-06"],
              apply=[Run(PROXY, "echo '127.0.0.2 idr-omeroreadonly-2' >> /etc/hosts && sed -i "
                                f"'s|ip_hash;|ip_hash;\\n    server idr-omeroreadonly-2:80;|' {UPSTREAMS}")],
              revert=[Run(PROXY, "grep -v idr-omeroreadonly-2 /etc/hosts > /tmp/hosts && "
                                 "cat /tmp/hosts > /etc/hosts && /usr/local/sbin/idr-proxy-backends")]),
    ],
    "IDR-PROXY-07": [
        Fault("access-log-without-cache-status", "the proxy logs in the combined format (no cache status)",
              ["IDR-PROXY-07"],
              apply=[Edit(PROXY, "/etc/nginx/nginx.conf", "access.log main_timed_cache_upstream;",
                          "access.log combined;", then="nginx -s reload")]),
    ],
    "IDR-PROXY-08": [
        Fault("rsync-module-writable", "the public rsync module accepts uploads",
              ["IDR-PROXY-08"],
              apply=[Edit(PROXY, "/etc/rsyncd.conf", "read only = yes", "read only = no")]),
    ],
    "IDR-PUBLIC-01": [
        Fault("public-user-disabled", "OMERO.web's public user is disabled on the read-only server",
              ["IDR-PUBLIC-01"],
              apply=[Run(RO, "sed -i 's/OMERO_WEB_PUBLIC_ENABLED=true/OMERO_WEB_PUBLIC_ENABLED=false/' "
                             f"/etc/omero/omero.env && systemctl restart omero-web && {wait_port(4080)}")],
              revert=[Run(RO, "sed -i 's/OMERO_WEB_PUBLIC_ENABLED=false/OMERO_WEB_PUBLIC_ENABLED=true/' "
                              f"/etc/omero/omero.env && systemctl restart omero-web && {wait_port(4080)}")]),
    ],
    "IDR-SSH-01": [
        Fault("ssh-passwords-allowed", "sshd on the proxy accepts passwords",
              ["IDR-SSH-01"],
              apply=[Edit(PROXY, "/etc/ssh/sshd_config.d/idr.conf", "PasswordAuthentication no",
                          "PasswordAuthentication yes")]),
    ],
    "IDR-SYS-01": [
        Fault("web-stopped", "OMERO.web is stopped on the read-only server",
              ["IDR-SYS-01", "MSIR-THUMB-01", "MSIR-THUMB-02", "MSIR-DATA-01"],
              apply=[Run(RO, f"systemctl stop omero-web && {wait_port(4080, present=False)}")],
              revert=[Run(RO, f"systemctl start omero-web && {wait_port(4080)}")]),
    ],
    "IDR-SYS-02": [
        Fault("web-started-by-hand", "OMERO.web stopped in systemd and started by hand instead",
              ["IDR-SYS-01", "IDR-SYS-02"],
              apply=[Run(RO, "systemctl stop omero-web && (cd /tmp && setsid env $(grep -v '^#' /etc/omero/omero.env "
                             "| xargs) PYTHONPATH=/opt/omero/src DJANGO_SETTINGS_MODULE=omeroweb.settings "
                             "runuser -u omero-web -- gunicorn --bind 127.0.0.1:4080 omeroweb.wsgi:application "
                             f">/dev/null 2>&1 & echo $! > {HAND_PID}) && {wait_port(4080)}")],
              revert=[Run(RO, f"kill $(cat {HAND_PID}); rm -f {HAND_PID}; {wait_port(4080, present=False)}; "
                              "systemctl start omero-web")]),
    ],
    "IDR-SYS-03": [
        Fault("restart-policy-removed", "OMERO.web no longer restarts on failure",
              ["IDR-SYS-03"],
              apply=[Run(RO, "mkdir -p /etc/systemd/system/omero-web.service.d && printf '[Service]\\nRestart=no\\n' > "
                             "/etc/systemd/system/omero-web.service.d/zz-fault.conf && systemctl daemon-reload")],
              revert=[Run(RO, "rm -f /etc/systemd/system/omero-web.service.d/zz-fault.conf && "
                              "systemctl daemon-reload")]),
    ],
    "IDR-SYS-04": [
        Fault("failed-unit", "a unit on the proxy has failed",
              ["IDR-SYS-04"],
              apply=[Run(PROXY, "systemd-run --unit=deploycheck-broken --property=Type=oneshot false; true")],
              revert=[Run(PROXY, "systemctl reset-failed deploycheck-broken")]),
    ],
    "IDR-TLS-01": [
        Fault("self-signed-certificate", "the proxy serves a self-signed fallback certificate",
              ["IDR-TLS-01"],
              apply=[Run(PROXY, "cp /etc/nginx/ssl/idr.crt /root/idr.crt.orig && "
                                "cp /etc/nginx/ssl/idr.key /root/idr.key.orig && "
                                "openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=localhost "
                                "-keyout /etc/nginx/ssl/idr.key -out /etc/nginx/ssl/idr.crt 2>/dev/null && "
                                "nginx -s reload")],
              revert=[Run(PROXY, "cp /root/idr.crt.orig /etc/nginx/ssl/idr.crt && "
                                 "cp /root/idr.key.orig /etc/nginx/ssl/idr.key && nginx -s reload")]),
    ],
    "IDR-TLS-02": [
        Fault("old-tls-enabled", "the proxy accepts TLS 1.0 and 1.1", ["IDR-TLS-02"],
              apply=[Edit(PROXY, SERVERS_CONF, "ssl_protocols TLSv1.2 TLSv1.3;",
                          "ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3; ssl_ciphers DEFAULT:@SECLEVEL=0;",
                          then="nginx -s reload")]),
    ],
    "MSIR-HOST-02": [
        Fault("web-file-sessions", "OMERO.web keeps sessions in files, which the microservice cannot read",
              ["MSIR-HOST-02"],
              apply=[Run(RO, "echo OMERO_WEB_SESSION_ENGINE=django.contrib.sessions.backends.file >> "
                             f"/etc/omero/omero.env && systemctl restart omero-web && {wait_port(4080)}")],
              revert=[Run(RO, "sed -i '/OMERO_WEB_SESSION_ENGINE/d' /etc/omero/omero.env && "
                              f"systemctl restart omero-web && {wait_port(4080)}")]),
    ],
    "MSIR-HOST-03": [
        Fault("nginx-bypasses-microservice",
              "the read-only server's nginx no longer routes renders to the microservice",
              ["MSIR-HOST-03", "MSIR-MS-01", "MSIR-MS-02", "MSIR-MS-03", "MSIR-ERR-01", "MSIR-ERR-02",
               "MSIR-ERR-05"],
              apply=[Edit(RO, WEB_CONF, MS_INCLUDE, "# @MS_ROUTES@", then="nginx -s reload")]),
    ],
    "MSIR-HOST-04": [
        Fault("microservice-stopped", "the image-region microservice is stopped on a read-only server",
              ["IDR-SYS-01", "MSIR-SYS-01", "MSIR-HOST-04", "MSIR-MS-01", "MSIR-MS-02",
               *[f"MSIR-RENDER-{n:02d}" for n in range(1, 12)], "MSIR-DATA-02", "MSIR-MASK-01",
               "MSIR-ERR-03", "MSIR-ERR-04", "MSIR-ERR-06"],
              apply=[Run(RO, "systemctl stop omero-ms-image-region")],
              revert=[Run(RO, f"systemctl start omero-ms-image-region && {wait_port(8081)}")]),
    ],
    "MSIR-MEMO-01": [
        Fault("memo-regen-incomplete", "the last memo-file regeneration did not finish",
              ["MSIR-MEMO-01"],
              apply=[Run(RW, f"r=$(ls -dt {MEMO}/rslt.* | head -n 1) && mv $r/timed $r/timed.fault")],
              revert=[Run(RW, f"r=$(ls -dt {MEMO}/rslt.* | head -n 1) && mv $r/timed.fault $r/timed")]),
    ],
    "MSIR-MEMO-02": [
        Fault("memo-regen-failures", "memo files failed for images whose pixels are gone from disk",
              ["MSIR-MEMO-02"],
              apply=[Run(RW, "mv /data/OMERO/Pixels/5 /data/OMERO/Pixels/.5.fault && runuser -u omero-server -- env "
                             "$(grep -v '^#' /etc/omero/omero.env | xargs) PYTHONPATH=/opt/omero/src "
                             f"python3 -m idrstub.memoregen --out {MEMO} > /run/deploycheck-fault.memo; "
                             "mv /data/OMERO/Pixels/.5.fault /data/OMERO/Pixels/5")],
              revert=[Run(RW, "rm -rf \"$(cat /run/deploycheck-fault.memo)\" && rm -f /run/deploycheck-fault.memo")]),
    ],
    "MSIR-MEMO-03": [
        Fault("memo-tools-missing", "GNU parallel is gone from the host that regenerates memo files",
              ["MSIR-MEMO-03"],
              apply=[Run(RW, "mv /usr/bin/parallel /usr/bin/parallel.deploycheck-fault")],
              revert=[Run(RW, "mv /usr/bin/parallel.deploycheck-fault /usr/bin/parallel")]),
    ],
    "MSIR-RENDER-04": [
        Fault("pyramid-pixels-truncated", "the pyramid image's pixels file was truncated on disk",
              ["MSIR-RENDER-04"],
              apply=[Run(RW, "cp -p /data/OMERO/Pixels/3 /root/pixels-3.orig && truncate -s 1M /data/OMERO/Pixels/3")],
              revert=[Run(RW, "cp -p /root/pixels-3.orig /data/OMERO/Pixels/3 && rm -f /root/pixels-3.orig")]),
    ],
    "MSIR-SYS-01": [
        Fault("ms-started-by-hand", "the microservice stopped in systemd and started by hand instead",
              ["IDR-SYS-01", "IDR-SYS-02", "MSIR-SYS-01"],
              apply=[Run(RO, "systemctl stop omero-ms-image-region && (cd /tmp && setsid env $(grep -v '^#' "
                             f"/etc/omero/omero.env | xargs) PYTHONPATH=/opt/omero/src MS_CONFIG={MS_CONF} "
                             "runuser -u omero-server -- python3 -m idrstub.ms >/dev/null 2>&1 & "
                             f"echo $! > {HAND_PID}) && {wait_port(8081)}")],
              revert=[Run(RO, f"kill $(cat {HAND_PID}); rm -f {HAND_PID}; {wait_port(8081, present=False)}; "
                              f"systemctl start omero-ms-image-region && {wait_port(8081)}")]),
    ],
    "OMERO-BACKUP-01": [
        Fault("backup-job-not-executable", "the daily pg_dump job lost its execute bit (run-parts skips it)",
              ["OMERO-BACKUP-01"],
              apply=[Run(DB, "chmod 0644 /etc/cron.daily/omero-pgdump")],
              revert=[Run(DB, "chmod 0755 /etc/cron.daily/omero-pgdump")]),
    ],
    "OMERO-BACKUP-02": [
        Fault("stale-dumps", "the daily dump stopped running three days ago",
              ["OMERO-BACKUP-02"],
              apply=[Run(DB, f"touch -d '3 days ago' {DUMPS}/*.pg_dump")],
              revert=[Run(DB, f"touch {DUMPS}/*.pg_dump")]),
    ],
    "OMERO-BACKUP-03": [
        Fault("corrupt-newest-dump", "the newest dump is not a pg_dump archive (disk full during the dump)",
              ["OMERO-BACKUP-03", "OMERO-BACKUP-06"],
              apply=[Run(DB, f"head -c 4096 /dev/urandom > {DUMPS}/omero.9999-fault.pg_dump && "
                             f"chown postgres:postgres {DUMPS}/omero.9999-fault.pg_dump && "
                             f"chmod 0600 {DUMPS}/*.pg_dump")],
              revert=[Run(DB, f"rm -f {DUMPS}/omero.9999-fault.pg_dump")],
              pytest_args=["--allow-disruptive"]),
    ],
    "OMERO-BACKUP-04": [
        Fault("dump-world-readable", "database dumps are readable by every user",
              ["OMERO-BACKUP-04"],
              apply=[Run(DB, f"chmod 0644 {DUMPS}/*.pg_dump")], revert=[Run(DB, f"chmod 0600 {DUMPS}/*.pg_dump")]),
    ],
    "OMERO-BACKUP-05": [
        Fault("config-backup-readable", "the configuration backup (with passwords) is readable by every user",
              ["OMERO-BACKUP-05"],
              apply=[Run(RW, "chmod 0644 /data/OMERO/backup/omero.config")],
              revert=[Run(RW, "chmod 0600 /data/OMERO/backup/omero.config")]),
    ],
    "OMERO-BACKUP-07": [
        Fault("binary-backup-job-narrowed", "the daily binary-repository backup only copies its backup folder",
              ["OMERO-BACKUP-07"],
              apply=[Run(RW, "sed -i 's|^FROM=/data/OMERO$|FROM=/data/OMERO/backup|' "
                             "/usr/local/sbin/omero-binary-backup")],
              revert=[Run(RW, "sed -i 's|^FROM=/data/OMERO/backup$|FROM=/data/OMERO|' "
                              "/usr/local/sbin/omero-binary-backup")]),
        Fault("binary-backup-job-only-cleans", "the job naming the binary repository only deletes temporary files",
              ["OMERO-BACKUP-07"],
              apply=[Run(RW, "sed -i 's|^rdiff-backup --terminal-verbosity 1 backup \"$FROM\" \"$TO\"$|"
                             "find \"$FROM\" -name \"*.tmp\" -delete|' /usr/local/sbin/omero-binary-backup && "
                             "! grep -q '^rdiff-backup' /usr/local/sbin/omero-binary-backup")],
              revert=[Run(RW, "sed -i 's|^find \"$FROM\" -name \"\\*.tmp\" -delete$|"
                              "rdiff-backup --terminal-verbosity 1 backup \"$FROM\" \"$TO\"|' "
                              "/usr/local/sbin/omero-binary-backup && "
                              "grep -q '^rdiff-backup' /usr/local/sbin/omero-binary-backup")]),
    ],
    "OMERO-BACKUP-08": [
        Fault("binary-backup-stale", "the binary repository's backup has not run for three days",
              ["OMERO-BACKUP-08"],
              apply=[Run(RW, "find /mnt/backup_server/omero -exec touch -h -d '3 days ago' {} +")],
              revert=[Run(RW, "/etc/cron.daily/omero-binary-backup")]),
    ],
    "OMERO-BACKUP-09": [
        Fault("binary-backup-corrupt", "the backup copy of an image's pixels is corrupted",
              ["OMERO-BACKUP-09"],
              apply=[Run(RW, "dd if=/dev/zero of=/mnt/backup_server/omero/Pixels/1 bs=1024 count=1 conv=notrunc "
                             "status=none")],
              revert=[Run(RW, "cp -p /data/OMERO/Pixels/1 /mnt/backup_server/omero/Pixels/1")],
              pytest_args=["--allow-disruptive"]),
    ],
}

VIDJIL: dict[str, list[Fault]] = {
    "VIDJIL-AUTH-01": [
        Fault("vidjil-default-admin", "the documented default admin plop@plop.com / 1234 exists", ["VIDJIL-AUTH-01"],
              apply=[Run(V_UWSGI, "python3 -c \"from vidjilstub import db; c = db.connect(); c.cursor().execute("
                                  "'INSERT INTO auth_user (first_name, last_name, email, password) VALUES "
                                  "(%s, %s, %s, %s)', ('System', 'Administrator', 'plop@plop.com', "
                                  "db.web2py_hash('1234')))\"")],
              revert=[Run(V_MYSQL, vsql("DELETE FROM auth_user WHERE email = 'plop@plop.com'"))]),
    ],
    "VIDJIL-AUTH-02": [
        Fault("vidjil-no-user", "the database has no user yet: init_db is open to anyone", ["VIDJIL-AUTH-02"],
              apply=[Run(V_MYSQL, vsql("CREATE TABLE auth_user_fault AS SELECT * FROM auth_user; "
                                       "DELETE FROM auth_user"))],
              revert=[Run(V_MYSQL, vsql("INSERT INTO auth_user SELECT * FROM auth_user_fault; "
                                        "DROP TABLE auth_user_fault"))]),
    ],
    "VIDJIL-AUTH-03": [
        Fault("vidjil-session-injected", "nginx forwards a fixed admin session cookie to the app", ["VIDJIL-AUTH-03"],
              apply=[Run(V_MYSQL, vsql("INSERT INTO web2py_session_vidjil (user_id, unique_key) "
                                       "SELECT min(id), 'fault-session' FROM auth_user")),
                     Run(V_NGINX, "sed -i 's%include uwsgi_params;%include uwsgi_params; "
                                  f"uwsgi_param HTTP_COOKIE session_id_vidjil=fault-session;%' {V_SITE} && "
                                  "nginx -s reload")],
              revert=[Run(V_NGINX, "sed -i 's% uwsgi_param HTTP_COOKIE session_id_vidjil=fault-session;%%' "
                                   f"{V_SITE} && nginx -s reload"),
                      Run(V_MYSQL, vsql("DELETE FROM web2py_session_vidjil WHERE unique_key = 'fault-session'"))]),
    ],
    "VIDJIL-BKP-01": [
        Fault("vidjil-backup-cron-commented", "the backup cron line is commented out, as shipped", ["VIDJIL-BKP-01"],
              apply=[Run(V_BACKUP, "sed -i 's/^33 2/# 33 2/' /etc/cron.d/vidjil-backup")],
              revert=[Run(V_BACKUP, "sed -i 's/^# 33 2/33 2/' /etc/cron.d/vidjil-backup")]),
    ],
    "VIDJIL-BKP-02": [
        Fault("vidjil-backup-stale", "the newest backup is three days old", ["VIDJIL-BKP-02"],
              apply=[Run(V_BACKUP, "touch -d '3 days ago' /mnt/backup/backup_*")],
              revert=[Run(V_BACKUP, "touch /mnt/backup/backup_*")]),
    ],
    "VIDJIL-BKP-03": [
        Fault("vidjil-backup-user-writes", "the backup user was granted every privilege", ["VIDJIL-BKP-03"],
              apply=[Run(V_MYSQL, vsql("GRANT ALL ON vidjil.* TO 'backup'@'%'"))],
              revert=[Run(V_MYSQL, vsql("REVOKE ALL ON vidjil.* FROM 'backup'@'%'; "
                                        "GRANT SELECT, LOCK TABLES, SHOW VIEW ON vidjil.* TO 'backup'@'%'"))]),
    ],
    "VIDJIL-CFG-01": [
        Fault("vidjil-too-many-workers", "as many scheduler workers as CPUs", ["VIDJIL-CFG-01"],
              apply=[Compose("vidjil", "up -d --no-deps workers", override=V_OVERRIDE),
                     Run(V_MYSQL, "for i in $(seq 100); do [ $(" + ROOT_SQL + " 'SELECT count(*) FROM "
                                  "scheduler_worker' -N) -ge 4 ] && break; sleep 0.1; done")],
              revert=[Compose("vidjil", "up -d --no-deps workers")]),
    ],
    "VIDJIL-CFG-02": [
        Fault("vidjil-autodelete-on", "AUTODELETE is turned on in the app model", ["VIDJIL-CFG-02"],
              apply=[Run(V_UWSGI, f"sed -i 's/^AUTODELETE = False/AUTODELETE = True/' {V_MODEL}")],
              revert=[Run(V_UWSGI, f"sed -i 's/^AUTODELETE = True/AUTODELETE = False/' {V_MODEL}")]),
    ],
    "VIDJIL-CFG-03": [
        Fault("vidjil-germline-missing", "a germline file is missing from the client", ["VIDJIL-CFG-03"],
              apply=[Run(V_NGINX, "mv /usr/share/vidjil/germline/IGHV.fa /root/IGHV.fa")],
              revert=[Run(V_NGINX, "mv /root/IGHV.fa /usr/share/vidjil/germline/IGHV.fa")]),
    ],
    "VIDJIL-CTR-01": [
        Fault("vidjil-fuse-stopped", "the fuse service is stopped", ["VIDJIL-CTR-01"],
              apply=[Engine("stop", V_FUSE)]),
    ],
    "VIDJIL-CTR-02": [
        Fault("vidjil-no-restart-policy", "the workers service has no restart policy", ["VIDJIL-CTR-02"],
              apply=[Engine("update --restart=no", V_WORKERS)],
              revert=[Engine("update --restart=unless-stopped", V_WORKERS)]),
    ],
    "VIDJIL-CTR-03": [
        Fault("vidjil-mysql-unhealthy", "MySQL's healthcheck fails (its socket is gone)", ["VIDJIL-CTR-03"],
              apply=[Run(V_MYSQL, "mv /run/mysqld/mysqld.sock /run/mysqld/fault.sock"),
                     Run(V_MYSQL, "for i in $(seq 60); do mysqladmin ping -h localhost >/dev/null 2>&1 || break; "
                                  "sleep 0.2; done"),
                     wait_health("unhealthy")],
              revert=[Run(V_MYSQL, "mv /run/mysqld/fault.sock /run/mysqld/mysqld.sock"), wait_health("healthy")]),
    ],
    "VIDJIL-DB-01": [
        Fault("vidjil-shipped-root-password", "MySQL's network root account has the shipped password",
              ["VIDJIL-DB-01"],
              apply=[Run(V_MYSQL, vsql("ALTER USER 'root'@'%' IDENTIFIED BY 'MySRPimSRP'"))],
              revert=[Run(V_MYSQL, "mysql -uroot -p\"$MYSQL_ROOT_PASSWORD\" -e \"ALTER USER 'root'@'%' IDENTIFIED BY "
                                   "'$MYSQL_ROOT_PASSWORD'\"")]),
    ],
    "VIDJIL-HTTP-01": [
        Fault("vidjil-http-served", "plain HTTP serves the site instead of redirecting", ["VIDJIL-HTTP-01"],
              apply=[Run(V_NGINX, "sed -i 's%return 301 https://$host$request_uri;%root /usr/share/vidjil/browser;%' "
                                  f"{V_SITE} && nginx -s reload")],
              revert=[Run(V_NGINX, "sed -i 's%root /usr/share/vidjil/browser; }%"
                                   f"return 301 https://$host$request_uri; }}%' {V_SITE} && nginx -s reload")]),
    ],
    "VIDJIL-MON-01": [
        Fault("vidjil-workers-stopped", "the scheduler workers are stopped", ["VIDJIL-MON-01", "VIDJIL-CTR-01"],
              apply=[Engine("stop", V_WORKERS)]),
    ],
    "VIDJIL-NET-01": [
        Fault("vidjil-fuse-published", "the fuse port 12789 is published on the host", ["VIDJIL-NET-01"],
              apply=[Compose("vidjil", "up -d --no-deps fuse", override=V_OVERRIDE)]),
    ],
    "VIDJIL-TLS-01": [
        Fault("vidjil-old-tls", "nginx accepts TLS 1.0 and 1.1", ["VIDJIL-TLS-01"],
              apply=[Edit(V_NGINX, V_SITE, "ssl_protocols TLSv1.2 TLSv1.3;",
                          "ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3; ssl_ciphers DEFAULT:@SECLEVEL=0;",
                          then="nginx -s reload")]),
    ],
    "VIDJIL-TLS-03": [
        Fault("vidjil-self-signed", "nginx serves the image's self-signed fallback certificate",
              ["VIDJIL-TLS-02", "VIDJIL-TLS-03"],
              apply=[Run(V_NGINX, "cp /etc/nginx/ssl/web2py.crt /root/crt.orig && "
                                  "cp /etc/nginx/ssl/web2py.key /root/key.orig && "
                                  "openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=localhost -keyout "
                                  "/etc/nginx/ssl/web2py.key -out /etc/nginx/ssl/web2py.crt 2>/dev/null && "
                                  "nginx -s reload")],
              revert=[Run(V_NGINX, "cp /root/crt.orig /etc/nginx/ssl/web2py.crt && "
                                   "cp /root/key.orig /etc/nginx/ssl/web2py.key && nginx -s reload")]),
    ],
    "VIDJIL-VOL-01": [
        Fault("vidjil-logs-in-container", "nginx's logs go to an anonymous volume, not the host folder",
              ["VIDJIL-VOL-01"],
              apply=[Compose("vidjil", "up -d --no-deps nginx", override=V_OVERRIDE)],
              # removed with its anonymous volume (-v), so the fault leaves nothing behind
              revert=[Compose("vidjil", "rm -s -f -v nginx"), Compose("vidjil", "up -d --no-deps nginx")]),
    ],
    "VIDJIL-VOL-02": [
        Fault("vidjil-upload-read-only", "the upload folder is mounted read-only into uwsgi", ["VIDJIL-VOL-02"],
              apply=[Compose("vidjil", "up -d --no-deps uwsgi", override=V_OVERRIDE)]),
    ],
}

CATALOGUE: dict[str, dict[str, list[Fault]]] = {"idr": IDR, "vidjil": VIDJIL}  # stack -> control id -> faults
