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
SERVER_DIR = "/opt/omero/server/OMERO.server"
MS_DROPINS = "/etc/systemd/system/omero-ms-image-region.service.d"
GRID_XML, OMERO_LOGDIR = f"{SERVER_DIR}/etc/grid/default.xml", f"{SERVER_DIR}/var/log"
PROPS, WEB_VERSION = f"{SERVER_DIR}/etc/omero.properties", "/opt/omero/src/omeroweb/version.py"
CONFIG_BACKUP, OMERO_CLI = "/data/OMERO/backup/omero.config", "/opt/omero/server/OMERO.server/bin/omero"
MEMO = "/opt/omero/memo-regen"
HAND_PID = "/run/deploycheck-fault.pid"
PRIVATE_NET, OUTSIDE = "deploycheck-idr_private", "idr-outside"
MICROCACHE = "/etc/nginx/conf.d/zz-microcache.conf"
HTTPS_VHOST = "/etc/nginx/conf.d/zz-https.conf"
MAINT_INC = "/etc/nginx/idr/maintenance.inc"
OTHER_FLAG = "/srv/www/maintenance/omero.flag"
SSHD_FAULT = "/etc/ssh/sshd_config.d/zz-fault.conf"
RSYNC_DROPIN = "/etc/systemd/system/rsync.service.d/zz-fault.conf"
MS_SNIPPET = "/etc/nginx/snippets/omero-ms-image-region.conf"
MS_UNIT = "/etc/systemd/system/omero-ms-image-region.service"
PRUNED = "/var/lib/pgsql/backup/pruned-fault"
BINARY_BACKUP = "/mnt/backup_server/omero"
CA_DIR = ROOT / "fixtures" / "idr" / "proxy" / "tls"
# a certificate from the reference CA (copied in first) for the proxy's own key, {days} long, for {name}
SIGN_CERT = ("cp /etc/nginx/ssl/idr.crt /root/idr.crt.orig && printf 'subjectAltName=DNS:{name}\\n' > /root/ext && "
             "openssl req -new -key /etc/nginx/ssl/idr.key -subj /CN={name} 2>/dev/null | "
             "openssl x509 -req -days {days} -CA /root/ca.crt -CAkey /root/ca.key -CAcreateserial "
             "-CAserial /root/ca.srl -extfile /root/ext -out /etc/nginx/ssl/idr.crt 2>/dev/null && nginx -s reload")
RESTORE_CERT = ("cp /root/idr.crt.orig /etc/nginx/ssl/idr.crt && "
                "rm -f /root/ca.key /root/ca.crt /root/ca.srl /root/ext /root/idr.crt.orig && nginx -s reload")

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
ADMIN_PARAMS = "/usr/share/vidjil/server/web2py/parameters_443.py"  # web2py's admin password (save_password)
RESTORE_ADMIN_PARAMS = Run(V_UWSGI, f"cp -p /root/parameters_443.orig {ADMIN_PARAMS} && "
                                    "rm -f /root/parameters_443.orig")
V_PLAIN_ADMIN = "/etc/nginx/admin-plain.inc"
V_OVERRIDE = ROOT / "selftests" / "vidjil-fault-override.yml"  # services recreated with other settings
V_OVERRIDE_2 = ROOT / "selftests" / "vidjil-fault-override-2.yml"  # and a second set of them


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
        Fault("cache-key-per-backend", "the cache key names the upstream ($proxy_host): port 9000 stores copies "
              "that port 80 never reads", ["IDR-BUSTER-01", "IDR-BUSTER-03"],
              apply=[Edit(PROXY, CACHED_INC, "proxy_cache_key $cache_key;", "proxy_cache_key $proxy_host$cache_key;",
                          then="nginx -s reload")],
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
        Fault("renders-routed-uncached", "the proxy's cached location no longer matches render_* URIs, which fall "
              "through to the uncached location (thumbnails too, with their Set-Cookie)",
              ["IDR-CACHE-01", "IDR-CACHE-02", "IDR-CACHE-10"],
              apply=[Edit(PROXY, COMMON_INC, "(render_|metadata_|get_thumbnail|img_detail)",
                          "(metadata_|get_thumbnail|img_detail)", then="nginx -s reload")]),
    ],
    "IDR-CACHE-02": [
        Fault("set-cookie-not-ignored", "the proxy no longer ignores the backend's Set-Cookie for caching",
              ["IDR-CACHE-02"],
              apply=[Edit(PROXY, CACHED_INC, 'proxy_ignore_headers "Set-Cookie" "Vary"', 'proxy_ignore_headers "Vary"',
                          then="nginx -s reload")]),
        Fault("cookie-holders-bypass-cache", "the proxy bypasses its cache for any request carrying a cookie "
              "(a common nginx recipe): visitors holding OMERO.web's public session cookie never get a HIT",
              ["IDR-CACHE-02", "IDR-CACHE-01", "IDR-CACHE-03", "IDR-CACHE-04", "IDR-CACHE-06", "IDR-CACHE-07"],
              apply=[Edit(PROXY, CACHED_INC, "proxy_cache_bypass $cache_refresh;",
                          "proxy_cache_bypass $cache_refresh $http_cookie;", then="nginx -s reload")]),
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
        Fault("site-wide-microcache", "a site-wide proxy_cache at http level (a micro-caching recipe) is inherited "
              "by the uncached location and caches OMERO.web pages",
              ["IDR-CACHE-08", "IDR-CACHE-09", "IDR-LEAK-01"],
              apply=[Run(PROXY, "printf 'proxy_cache omero;\\nproxy_cache_valid 200 10m;\\nproxy_ignore_headers "
                                f"Cache-Control Expires Set-Cookie Vary;\\n' > {MICROCACHE} && nginx -s reload")],
              revert=[Run(PROXY, f"rm -f {MICROCACHE} && nginx -s reload")]),
    ],
    "IDR-CACHE-10": [
        Fault("set-cookie-passed", "the proxy passes the backend's Set-Cookie on cached URIs", ["IDR-CACHE-10"],
              apply=[Edit(PROXY, CACHED_INC, "proxy_hide_header Set-Cookie;", "# proxy_hide_header Set-Cookie;",
                          then="nginx -s reload")]),
        Fault("api-location-passes-set-cookie", "a dedicated cached /api/ location (its own timeout) lacks "
              "proxy_hide_header Set-Cookie", ["IDR-CACHE-10"],
              apply=[Run(PROXY, "printf 'location ^~ /api/ { proxy_pass http://$omero_backend; proxy_read_timeout 300; "
                                "proxy_cache $cache_zone_name; proxy_cache_key $cache_key; proxy_cache_valid 200 1d; "
                                "proxy_cache_bypass $cache_refresh; proxy_no_cache $skip_cache; "
                                "proxy_ignore_headers Set-Cookie Vary Expires; }\\n' >> "
                                f"{COMMON_INC} && nginx -s reload")],
              revert=[Run(PROXY, f"sed -i '/^location ^~ \\/api\\//d' {COMMON_INC} && nginx -s reload")]),
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
        Fault("repository-on-root-fs", "the binary repository was moved to the root file system, a symlink left "
              "in /data", ["IDR-DATA-01"],
              apply=[Run(RW, "cp -a /data/OMERO /var/tmp/OMERO && mv /data/OMERO /data/.OMERO.fault && "
                             "ln -s /var/tmp/OMERO /data/OMERO")],
              revert=[Run(RW, "rm /data/OMERO && mv /data/.OMERO.fault /data/OMERO && rm -rf /var/tmp/OMERO")]),
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
        Fault("data-volume-read-only", "the /data volume is mounted read-only on the read-write server",
              ["IDR-DATA-03"],
              apply=[Run(RW, "mount -o remount,bind,ro /data")], revert=[Run(RW, "mount -o remount,bind,rw /data")]),
    ],
    "IDR-DATA-04": [
        Fault("binary-repository-world-writable", "a pixels file is world-writable",
              ["IDR-DATA-04"],
              apply=[Run(RW, "chmod 0666 /data/OMERO/Pixels/1")], revert=[Run(RW, "chmod 0644 /data/OMERO/Pixels/1")]),
        Fault("dropbox-world-writable", "a world-writable DropBox folder was made inside the binary repository",
              ["IDR-DATA-04"],
              apply=[Run(RW, "install -d -m 0777 /data/OMERO/DropBox")], revert=[Run(RW, "rmdir /data/OMERO/DropBox")]),
    ],
    "IDR-DB-01": [
        Fault("pg-data-dir-open", "the PostgreSQL data directory is readable by its group",
              ["IDR-DB-01"],
              apply=[Run(DB, "chmod 0750 /var/lib/pgsql/15/data")],
              revert=[Run(DB, "chmod 0700 /var/lib/pgsql/15/data")]),
        Fault("pg-data-dir-acl", "an ACL lets another user (a backup agent) read the PostgreSQL data directory",
              ["IDR-DB-01"],
              apply=[Run(DB, "python3 -c \"import os, struct; os.setxattr('/var/lib/pgsql/15/data', "
                             "'system.posix_acl_access', struct.pack('<I', 2) + b''.join(struct.pack('<HHI', *e) for e "
                             "in ((1, 7, 2**32 - 1), (2, 5, 65534), (4, 0, 2**32 - 1), (16, 5, 2**32 - 1), "
                             "(32, 0, 2**32 - 1))))\"")],
              revert=[Run(DB, "python3 -c \"import os; os.removexattr('/var/lib/pgsql/15/data', "
                              "'system.posix_acl_access')\"; chmod 0700 /var/lib/pgsql/15/data")]),
    ],
    "IDR-DB-02": [
        Fault("readonly-no-statement-timeout", "the read-only role lost its statement timeout",
              ["IDR-DB-02"],
              apply=[Run(DB, psql("ALTER ROLE omeroreadonly RESET statement_timeout"))],
              revert=[Run(DB, psql("ALTER ROLE omeroreadonly SET statement_timeout = '1s'"))]),
        Fault("readonly-timeout-off-in-database", "a per-database role setting turns the read-only role's timeout off",
              ["IDR-DB-02"],
              apply=[Run(DB, psql("ALTER ROLE omeroreadonly IN DATABASE omero SET statement_timeout = 0"))],
              revert=[Run(DB, psql("ALTER ROLE omeroreadonly IN DATABASE omero RESET statement_timeout"))]),
    ],
    "IDR-DB-03": [
        Fault("readonly-may-write", "the read-only role was granted UPDATE on image",
              ["IDR-DB-03"],
              apply=[Run(DB, psql("GRANT UPDATE ON image TO omeroreadonly"))],
              revert=[Run(DB, psql("REVOKE UPDATE ON image FROM omeroreadonly"))]),
        Fault("readonly-member-of-owner", "the read-only role was made a member of the schema owner's role",
              ["IDR-DB-03"],
              apply=[Run(DB, psql("GRANT omero TO omeroreadonly"))],
              revert=[Run(DB, psql("REVOKE omero FROM omeroreadonly"))]),
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
        Fault("private-network-reachable-from-outside", "the private network is routed to the outside (the vantage "
              "point got an interface on it)", ["IDR-EXPO-01", "IDR-EXPO-02", "IDR-EXPO-03"],
              apply=[Engine(f"network connect {PRIVATE_NET}", OUTSIDE)]),
    ],
    "IDR-EXPO-02": [
        Fault("idr-omeroreadonly-1-on-public-network", "idr-omeroreadonly-1 got an interface on the public network",
              ["IDR-EXPO-02"], apply=[Engine(f"network connect {PUBLIC_NET}", RO)]),
    ],
    "IDR-EXPO-03": [
        Fault("idr-omeroreadwrite-on-public-network", "idr-omeroreadwrite got an interface on the public network",
              ["IDR-EXPO-03"], apply=[Engine(f"network connect {PUBLIC_NET}", RW)]),
    ],
    "IDR-EXPO-04": [
        Fault("longquery-forwarded-publicly", "an nginx stream forward exposes the long-query port on the proxy's "
              "public address", ["IDR-EXPO-04", "IDR-PROXY-01", "IDR-PROXY-02"],
              apply=[Host("ip=$(docker inspect -f '{{(index .NetworkSettings.Networks \"" + PUBLIC_NET + "\")"
                          ".IPAddress}}' {container}) && docker exec {container} sed -i \"s|^stream {|stream {\\n"
                          "    server { listen $ip:8009; proxy_pass 127.0.0.1:8009; }  # deploycheck-fault|\" "
                          "/etc/nginx/nginx.conf", PROXY),
                     Run(PROXY, "nginx -s reload && for i in $(seq 50); do [ $(ss -Htln | grep -c ':8009 ') -ge 2 ] && "
                                "break; sleep 0.1; done")],
              revert=[Run(PROXY, "sed -i '/deploycheck-fault/d' /etc/nginx/nginx.conf && nginx -s reload")]),
    ],
    "IDR-EXPO-05": [
        Fault("https-loopback-only", "the proxy's HTTPS listener is bound to loopback",
              ["IDR-EXPO-05"],
              apply=[Edit(PROXY, SERVERS_CONF, "listen 443 ssl", "listen 127.0.0.1:443 ssl",
                          then="systemctl restart nginx")]),
        Fault("http-listener-dropped", "the proxy's HTTP listener was dropped (HTTPS only, no port 80 left)",
              ["IDR-EXPO-05"],
              apply=[Edit(PROXY, SERVERS_CONF, "    listen 80 default_server;", "    # listen 80 default_server;",
                          then="nginx -s reload")]),
    ],
    "IDR-LOGIN-01": [
        Fault("login-reachable", "the proxy serves OMERO.web's login page", ["IDR-LOGIN-01", "IDR-LOGIN-02"],
              apply=[Edit(PROXY, COMMON_INC, "location ^~ /webclient/login {", "location ^~ /webclient/login_x {",
                          then="nginx -s reload")]),
        Fault("https-vhost-without-login-block", "HTTPS is served by a separate (certbot-style) server block that "
              "proxies everything, login included", ["IDR-LOGIN-01"],
              apply=[Run(PROXY, "sed -i 's|^    listen 443 ssl default_server;|    # listen 443 ssl default_server; # "
                                f"deploycheck-fault|' {SERVERS_CONF} && printf 'server {{\\n    listen 443 ssl "
                                "default_server;\\n    ssl_certificate /etc/nginx/ssl/idr.crt;\\n    "
                                "ssl_certificate_key /etc/nginx/ssl/idr.key;\\n    ssl_protocols TLSv1.2 TLSv1.3;\\n"
                                "    location / { proxy_pass http://omeroreadonly; proxy_set_header Host $host; }"
                                f"\\n}}\\n' > {HTTPS_VHOST} && nginx -s reload")],
              revert=[Run(PROXY, f"rm -f {HTTPS_VHOST} && sed -i 's|^    # listen 443 ssl default_server; # "
                                 f"deploycheck-fault|    listen 443 ssl default_server;|' {SERVERS_CONF} && "
                                 "nginx -s reload")]),
    ],
    "IDR-LOGIN-02": [
        Fault("longquery-server-without-login-block", "the long-query server proxies everything with its own "
              "location instead of the shared locations (no login block)", ["IDR-LOGIN-02"],
              apply=[Run(PROXY, "sed -i '/listen 127.0.0.1:8009;/,/}/ s|include /etc/nginx/idr/common-server.inc;|"
                                f"location / {{ proxy_pass http://$omero_backend; }}|' {SERVERS_CONF} && "
                                "nginx -s reload")],
              revert=[Run(PROXY, "sed -i 's|location / { proxy_pass http://$omero_backend; }|"
                                 f"include /etc/nginx/idr/common-server.inc;|' {SERVERS_CONF} && nginx -s reload")]),
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
        Fault("maintenance-flag-left-elsewhere", "the proxy's maintenance check reads another flag path than the "
              "documented one, and a flag was left there", ["IDR-MAINT-01"],
              apply=[Run(PROXY, f"sed -i 's|-f /srv/www/omero-maintenance.flag|-f {OTHER_FLAG}|' {MAINT_INC} && "
                                f"mkdir -p /srv/www/maintenance && touch {OTHER_FLAG} && nginx -s reload")],
              revert=[Run(PROXY, f"sed -i 's|-f {OTHER_FLAG}|-f /srv/www/omero-maintenance.flag|' {MAINT_INC} && "
                                 "rm -rf /srv/www/maintenance && nginx -s reload")]),
    ],
    "IDR-MAINT-02": [
        Fault("maintenance-page-missing", "the flag gives nginx's bare 503 instead of the maintenance page",
              ["IDR-MAINT-02"],
              apply=[Edit(PROXY, "/etc/nginx/idr/maintenance.inc", "error_page 503", "# error_page 503",
                          then="nginx -s reload")],
              pytest_args=["--allow-disruptive"]),
        Fault("maintenance-skips-cached-routes", "the cached locations (renders, thumbnails, api) do not include the "
              "maintenance check", ["IDR-MAINT-02"],
              apply=[Run(PROXY, "sed -i '/get_thumbnail|img_detail/{n;s|include /etc/nginx/idr/maintenance.inc;|"
                                f"# include /etc/nginx/idr/maintenance.inc; # deploycheck-fault|}}' {COMMON_INC} && "
                                "nginx -s reload")],
              revert=[Run(PROXY, "sed -i 's|# include /etc/nginx/idr/maintenance.inc; # deploycheck-fault|"
                                 f"include /etc/nginx/idr/maintenance.inc;|' {COMMON_INC} && nginx -s reload")],
              pytest_args=["--allow-disruptive"]),
    ],
    "IDR-NGINX-01": [
        Fault("nginx-config-broken-on-disk", "a syntax error waits in the proxy's nginx configuration",
              ["IDR-NGINX-01"],
              apply=[Run(PROXY, "echo 'server { listen 81 }' > /etc/nginx/conf.d/zz-broken.conf")],
              revert=[Run(PROXY, "rm -f /etc/nginx/conf.d/zz-broken.conf")]),
        Fault("tls-key-missing-on-disk", "the certificate's key file is gone from disk (the running nginx still "
              "holds it)", ["IDR-NGINX-01"],
              apply=[Run(PROXY, "mv /etc/nginx/ssl/idr.key /etc/nginx/ssl/idr.key.fault")],
              revert=[Run(PROXY, "mv /etc/nginx/ssl/idr.key.fault /etc/nginx/ssl/idr.key")]),
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
        Fault("ssh-extra-port", "sshd on the proxy also listens on port 2222 (a drop-in)", ["IDR-PROXY-01"],
              apply=[Run(PROXY, f"printf 'Port 22\\nPort 2222\\n' > {SSHD_FAULT} && systemctl reload ssh && "
                                f"{wait_port(2222)}")],
              revert=[Run(PROXY, f"rm -f {SSHD_FAULT} && systemctl reload ssh && {wait_port(2222, present=False)}")]),
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
        Fault("worker-user-changed", "nginx.conf names another worker user (another distribution's default) "
              "while the cache directory stays www-data's", ["IDR-PROXY-04"],
              apply=[Edit(PROXY, "/etc/nginx/nginx.conf", "user www-data;", "user nobody nogroup;",
                          then="nginx -s reload")]),
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
        Fault("upstream-server-down", "the read-only server is marked down in the proxy's upstream (left from "
              "maintenance)", ["IDR-PROXY-06"],
              apply=[Edit(PROXY, UPSTREAMS, "fail_timeout=10s;", "fail_timeout=10s down;", then="nginx -s reload")]),
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
        Fault("rsync-daemon-other-config", "the rsync unit runs the daemon with another config file, whose module "
              "accepts uploads", ["IDR-PROXY-08"],
              apply=[Run(PROXY, "sed 's/read only = yes/read only = no/' /etc/rsyncd.conf > /etc/rsyncd-public.conf && "
                                "mkdir -p /etc/systemd/system/rsync.service.d && printf '[Service]\\nExecStart=\\n"
                                "ExecStart=/usr/bin/rsync --daemon --no-detach --config=/etc/rsyncd-public.conf\\n' > "
                                f"{RSYNC_DROPIN} && systemctl daemon-reload && systemctl restart rsync && "
                                f"{wait_port(873)}")],
              revert=[Run(PROXY, f"rm -f {RSYNC_DROPIN} /etc/rsyncd-public.conf && systemctl daemon-reload && "
                                 f"systemctl restart rsync && {wait_port(873)}")]),
    ],
    "IDR-PUBLIC-01": [
        Fault("public-user-disabled", "OMERO.web's public user is disabled on the read-only server",
              ["IDR-PUBLIC-01"],
              apply=[Run(RO, "sed -i 's/OMERO_WEB_PUBLIC_ENABLED=true/OMERO_WEB_PUBLIC_ENABLED=false/' "
                             f"/etc/omero/omero.env && systemctl restart omero-web && {wait_port(4080)}")],
              revert=[Run(RO, "sed -i 's/OMERO_WEB_PUBLIC_ENABLED=false/OMERO_WEB_PUBLIC_ENABLED=true/' "
                              f"/etc/omero/omero.env && systemctl restart omero-web && {wait_port(4080)}")]),
        Fault("public-url-filter-webgateway-only", "OMERO.web's public URL filter is OMERO's shipped default "
              "(webgateway only): new visitors get no public session on /webclient/", ["IDR-PUBLIC-01"],
              apply=[Run(RO, "echo \"OMERO_WEB_PUBLIC_URL_FILTER=^/webgateway/(?!(archived_files|download_as))\" >> "
                             f"/etc/omero/omero.env && systemctl restart omero-web && {wait_port(4080)}")],
              revert=[Run(RO, "sed -i '/OMERO_WEB_PUBLIC_URL_FILTER/d' /etc/omero/omero.env && "
                              f"systemctl restart omero-web && {wait_port(4080)}")]),
    ],
    "IDR-SSH-01": [
        Fault("ssh-passwords-allowed", "sshd on the proxy accepts passwords",
              ["IDR-SSH-01"],
              apply=[Edit(PROXY, "/etc/ssh/sshd_config.d/idr.conf", "PasswordAuthentication no",
                          "PasswordAuthentication yes")]),
        Fault("ssh-password-match-block", "a Match block lets root log in with a password", ["IDR-SSH-01"],
              apply=[Run(PROXY, "printf 'Match User root\\n    PasswordAuthentication yes\\n"
                                f"    PermitRootLogin yes\\n' > {SSHD_FAULT}")],
              revert=[Run(PROXY, f"rm -f {SSHD_FAULT}")]),
        Fault("ssh-cloud-init-dropin", "a cloud-init drop-in read before idr.conf turns passwords on (first value "
              "wins)", ["IDR-SSH-01"],
              apply=[Run(PROXY, "echo 'PasswordAuthentication yes' > /etc/ssh/sshd_config.d/50-cloud-init.conf")],
              revert=[Run(PROXY, "rm -f /etc/ssh/sshd_config.d/50-cloud-init.conf")]),
    ],
    "IDR-SYS-01": [
        Fault("web-stopped", "OMERO.web is stopped on the read-only server",
              ["IDR-SYS-01", "MSIR-THUMB-01", "MSIR-THUMB-02", "MSIR-DATA-01"],
              apply=[Run(RO, f"systemctl stop omero-web && {wait_port(4080, present=False)}")],
              revert=[Run(RO, f"systemctl start omero-web && {wait_port(4080)}")]),
        Fault("web-unit-disabled", "OMERO.web runs but its unit is disabled (gone after a reboot)", ["IDR-SYS-01"],
              apply=[Run(RO, "systemctl disable --quiet omero-web")],
              revert=[Run(RO, "systemctl enable --quiet omero-web")]),
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
        Fault("listener-in-login-scope", "a server started from a login session (a scope, not a service) listens "
              "on the proxy", ["IDR-SYS-02"],
              apply=[Run(PROXY, "systemd-run --scope --unit=deploycheck-hand --quiet setsid -f python3 -m http.server "
                                f"--bind 127.0.0.1 8099 >/dev/null 2>&1 && {wait_port(8099)}")],
              revert=[Run(PROXY, f"systemctl stop deploycheck-hand.scope; {wait_port(8099, present=False)}")]),
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
        Fault("certificate-expiring", "the proxy serves a certificate from the trusted CA that expires in 3 days",
              ["IDR-TLS-01"],
              apply=[Host(f"docker cp {CA_DIR}/ca.key {{container}}:/root/ca.key && "
                          f"docker cp {CA_DIR}/ca.crt {{container}}:/root/ca.crt", PROXY),
                     Run(PROXY, SIGN_CERT.format(days=3, name="localhost"))],
              revert=[Run(PROXY, RESTORE_CERT)]),
        Fault("certificate-wrong-name", "the proxy serves a certificate from the trusted CA for another name",
              ["IDR-TLS-01"],
              apply=[Host(f"docker cp {CA_DIR}/ca.key {{container}}:/root/ca.key && "
                          f"docker cp {CA_DIR}/ca.crt {{container}}:/root/ca.crt", PROXY),
                     Run(PROXY, SIGN_CERT.format(days=365, name="idr.example.org"))],
              revert=[Run(PROXY, RESTORE_CERT)]),
    ],
    "IDR-TLS-02": [
        Fault("old-tls-enabled", "the proxy accepts TLS 1.0 and 1.1", ["IDR-TLS-02"],
              apply=[Edit(PROXY, SERVERS_CONF, "ssl_protocols TLSv1.2 TLSv1.3;",
                          "ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3; ssl_ciphers DEFAULT:@SECLEVEL=0;",
                          then="nginx -s reload")]),
        Fault("legacy-tls-conf-command", "an ssl_conf_command compatibility snippet re-enables every protocol "
              "over ssl_protocols", ["IDR-TLS-02"],
              apply=[Edit(PROXY, SERVERS_CONF, "ssl_protocols TLSv1.2 TLSv1.3;",
                          "ssl_protocols TLSv1.2 TLSv1.3; ssl_conf_command Protocol ALL; "
                          "ssl_conf_command CipherString DEFAULT:@SECLEVEL=0;", then="nginx -s reload")]),
    ],
    "MSIR-ERR-05": [
        Fault("ms-pinned-public-session", "the read-only server's nginx pins one public session cookie on every "
              "render (to make anonymous embeds work)", ["MSIR-ERR-05"],
              apply=[Run(RO, "sid=$(curl -s -L -o /dev/null -c - http://127.0.0.1/webclient/ | awk '/sessionid_idr/ "
                             "{print $7}') && [ -n \"$sid\" ] && sed -i \"s|proxy_pass http://image_region_backend;|"
                             "proxy_pass http://image_region_backend; proxy_set_header Cookie sessionid_idr=$sid; "
                             f"# deploycheck-fault|\" {MS_SNIPPET} && nginx -s reload")],
              revert=[Run(RO, "sed -i 's| proxy_set_header Cookie sessionid_idr=[a-z0-9]*; # deploycheck-fault||' "
                              f"{MS_SNIPPET} && nginx -s reload")]),
    ],
    "MSIR-HOST-01": [
        Fault("omero-uid-mismatch", "the OMERO user's uid on the read-only server differs from the repository "
              "owner's (shared volume)", ["MSIR-HOST-01"],
              apply=[Run(RO, "sed -i 's/^omero-server:x:999:/omero-server:x:4242:/' /etc/passwd")],
              revert=[Run(RO, "sed -i 's/^omero-server:x:4242:/omero-server:x:999:/' /etc/passwd")]),
    ],
    "MSIR-HOST-02": [
        Fault("web-file-sessions", "OMERO.web keeps sessions in files, which the microservice cannot read",
              ["MSIR-HOST-02"],
              apply=[Run(RO, "echo OMERO_WEB_SESSION_ENGINE=django.contrib.sessions.backends.file >> "
                             f"/etc/omero/omero.env && systemctl restart omero-web && {wait_port(4080)}")],
              revert=[Run(RO, "sed -i '/OMERO_WEB_SESSION_ENGINE/d' /etc/omero/omero.env && "
                              f"systemctl restart omero-web && {wait_port(4080)}")]),
        Fault("ms-reads-other-redis-db", "the microservice reads sessions from another Redis database than "
              "OMERO.web writes", ["MSIR-HOST-02"],
              apply=[Edit(RO, MS_CONF, "redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/1",
                          then=f"systemctl restart omero-ms-image-region && {wait_port(8081)}")]),
    ],
    "MSIR-HOST-03": [
        Fault("nginx-bypasses-microservice",
              "the read-only server's nginx no longer routes renders to the microservice",
              ["MSIR-HOST-03", "MSIR-MS-01", "MSIR-MS-02", "MSIR-MS-03", "MSIR-ERR-01", "MSIR-ERR-02",
               "MSIR-ERR-05"],
              apply=[Edit(RO, WEB_CONF, MS_INCLUDE, "# @MS_ROUTES@", then="nginx -s reload")]),
        Fault("render-routes-shadowed", "a prefix location for /webgateway/ (added for timeouts) wins over the "
              "microservice's render locations", ["MSIR-HOST-03", "MSIR-MS-01", "MSIR-MS-02", "MSIR-MS-03"],
              apply=[Edit(RO, WEB_CONF, MS_INCLUDE, "location ^~ /webgateway/ { proxy_pass http://omeroweb; "
                          "proxy_read_timeout 900; } " + MS_INCLUDE, then="nginx -s reload")]),
    ],
    "MSIR-HOST-04": [
        Fault("microservice-stopped", "the image-region microservice is stopped on a read-only server",
              ["IDR-SYS-01", "MSIR-SYS-01", "MSIR-HOST-04", "MSIR-MS-01", "MSIR-MS-02",
               *[f"MSIR-RENDER-{n:02d}" for n in range(1, 12)], "MSIR-DATA-02", "MSIR-MASK-01",
               "MSIR-ERR-03", "MSIR-ERR-04", "MSIR-ERR-06"],
              apply=[Run(RO, "systemctl stop omero-ms-image-region")],
              revert=[Run(RO, f"systemctl start omero-ms-image-region && {wait_port(8081)}")]),
        Fault("microservice-hung", "the microservice process is frozen: its unit is active, its port open, "
              "nothing answers", ["MSIR-HOST-04", "MSIR-HOST-02", "MSIR-HOST-03"],
              apply=[Run(RO, "systemctl kill -s STOP omero-ms-image-region")],
              revert=[Run(RO, "systemctl kill -s CONT omero-ms-image-region")]),
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
    "MSIR-MS-03": [
        Fault("proxy-strips-session-header", "the proxy blanks the client's X-OMERO-Session-Key header on cached "
              "routes", ["MSIR-MS-03"],
              apply=[Edit(PROXY, CACHED_INC, "proxy_hide_header Set-Cookie;",
                          "proxy_hide_header Set-Cookie; proxy_set_header X-OMERO-Session-Key \"\";",
                          then="nginx -s reload")]),
    ],
    "MSIR-RENDER-01": [
        Fault("ms-default-data-dir", "the microservice's omero.data.dir is left at its shipped /OMERO",
              [f"MSIR-RENDER-{n:02d}" for n in range(1, 12)],
              apply=[Edit(RO, MS_CONF, "omero.data.dir: /data/OMERO", "omero.data.dir: /OMERO",
                          then=f"systemctl restart omero-ms-image-region && {wait_port(8081)}")]),
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
        Fault("ms-unit-from-usr-lib", "the microservice's unit file lives in /usr/lib/systemd/system, not "
              "/etc/systemd/system", ["MSIR-SYS-01"],
              apply=[Run(RO, f"mv {MS_UNIT} /usr/lib/systemd/system/ && systemctl daemon-reload")],
              revert=[Run(RO, f"mv /usr/lib/systemd/system/omero-ms-image-region.service {MS_UNIT} && "
                              "systemctl daemon-reload")]),
    ],
    "MSIR-VER-01": [
        Fault("microservice-on-java-8", "the microservice's unit is given an old Java (JAVA_HOME of a Java 8 "
              "runtime, by a drop-in)", ["MSIR-VER-01"],
              apply=[Run(RO, "mkdir -p /opt/jre8/bin && printf '%s\\n' '#!/bin/sh' "
                             "\"echo 'openjdk version \\\"1.8.0_392\\\"' >&2\" > /opt/jre8/bin/java && "
                             f"chmod +x /opt/jre8/bin/java && mkdir -p {MS_DROPINS} && printf "
                             f"'[Service]\\nEnvironment=JAVA_HOME=/opt/jre8\\n' > {MS_DROPINS}/zz-java8.conf && "
                             "systemctl daemon-reload")],
              revert=[Run(RO, f"rm -rf /opt/jre8 {MS_DROPINS}/zz-java8.conf && systemctl daemon-reload")]),
    ],
    "OMERO-BACKUP-01": [
        Fault("backup-job-not-executable", "the daily pg_dump job lost its execute bit (run-parts skips it)",
              ["OMERO-BACKUP-01"],
              apply=[Run(DB, "chmod 0644 /etc/cron.daily/omero-pgdump")],
              revert=[Run(DB, "chmod 0755 /etc/cron.daily/omero-pgdump")]),
        Fault("pgdump-job-commented-out", "the daily job's pg_dump line is commented out (the job runs, dumps nothing)",
              ["OMERO-BACKUP-01"],
              apply=[Run(DB, "sed -i '/pg_dump -Fc/s/^/# /' /etc/cron.daily/omero-pgdump")],
              revert=[Run(DB, "sed -i 's/^# \\(.*pg_dump -Fc\\)/\\1/' /etc/cron.daily/omero-pgdump")]),
    ],
    "OMERO-BACKUP-02": [
        Fault("stale-dumps", "the daily dump stopped running three days ago",
              ["OMERO-BACKUP-02"],
              apply=[Run(DB, f"touch -d '3 days ago' {DUMPS}/*.pg_dump")],
              revert=[Run(DB, f"touch {DUMPS}/*.pg_dump")]),
        Fault("dumps-pruned-away", "a clean-up job removed every dump", ["OMERO-BACKUP-02", "OMERO-BACKUP-03"],
              apply=[Run(DB, f"mkdir -p {PRUNED} && mv {DUMPS}/*.pg_dump {PRUNED}/")],
              revert=[Run(DB, f"mv {PRUNED}/*.pg_dump {DUMPS}/ && rmdir {PRUNED}")]),
    ],
    "OMERO-BACKUP-03": [
        Fault("corrupt-newest-dump", "the newest dump is not a pg_dump archive (disk full during the dump)",
              ["OMERO-BACKUP-03", "OMERO-BACKUP-06"],
              apply=[Run(DB, f"head -c 4096 /dev/urandom > {DUMPS}/omero.9999-fault.pg_dump && "
                             f"chown postgres:postgres {DUMPS}/omero.9999-fault.pg_dump && "
                             f"chmod 0600 {DUMPS}/*.pg_dump")],
              revert=[Run(DB, f"rm -f {DUMPS}/omero.9999-fault.pg_dump")],
              pytest_args=["--allow-disruptive"]),
        Fault("newest-dump-truncated", "the newest dump is a pg_dump archive cut short (disk full mid-dump)",
              ["OMERO-BACKUP-03", "OMERO-BACKUP-06"],
              apply=[Run(DB, f"f=$(ls -t {DUMPS}/*.pg_dump | head -n 1) && "
                             f"head -c $(( $(stat -c %s \"$f\") * 2 / 3 )) \"$f\" > {DUMPS}/omero.9999-cut.pg_dump && "
                             f"chown postgres:postgres {DUMPS}/omero.9999-cut.pg_dump && "
                             f"chmod 0600 {DUMPS}/omero.9999-cut.pg_dump")],
              revert=[Run(DB, f"rm -f {DUMPS}/omero.9999-cut.pg_dump")],
              pytest_args=["--allow-disruptive"]),
    ],
    "OMERO-BACKUP-04": [
        Fault("dump-world-readable", "database dumps are readable by every user",
              ["OMERO-BACKUP-04"],
              apply=[Run(DB, f"chmod 0644 {DUMPS}/*.pg_dump")], revert=[Run(DB, f"chmod 0600 {DUMPS}/*.pg_dump")]),
        Fault("plain-dump-world-readable", "an ad-hoc plain SQL dump in the dump folder is readable by every user",
              ["OMERO-BACKUP-04"],
              apply=[Run(DB, f"su postgres -c 'pg_dump omero' > {DUMPS}/omero-before-upgrade.sql && "
                             f"chmod 0644 {DUMPS}/omero-before-upgrade.sql")],
              revert=[Run(DB, f"rm -f {DUMPS}/omero-before-upgrade.sql")]),
    ],
    "OMERO-BACKUP-05": [
        Fault("config-backup-readable", "the configuration backup (with passwords) is readable by every user",
              ["OMERO-BACKUP-05"],
              apply=[Run(RW, "chmod 0644 /data/OMERO/backup/omero.config")],
              revert=[Run(RW, "chmod 0600 /data/OMERO/backup/omero.config")]),
    ],
    "OMERO-BACKUP-06": [
        Fault("newest-dump-partial", "the newest dump is a valid archive of a few tables only (pg_dump -t)",
              ["OMERO-BACKUP-06"],
              apply=[Run(DB, f"su postgres -c 'pg_dump -Fc -t image -t pixels -f {DUMPS}/omero.9999-partial.pg_dump "
                             f"omero' && chmod 0600 {DUMPS}/omero.9999-partial.pg_dump")],
              revert=[Run(DB, f"rm -f {DUMPS}/omero.9999-partial.pg_dump")],
              pytest_args=["--allow-disruptive"]),
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
        Fault("binary-backup-job-skipped-by-run-parts", "the daily job is named with a dot, which run-parts skips",
              ["OMERO-BACKUP-07"],
              apply=[Run(RW, "mv /etc/cron.daily/omero-binary-backup /etc/cron.daily/omero-binary-backup.sh")],
              revert=[Run(RW, "mv /etc/cron.daily/omero-binary-backup.sh /etc/cron.daily/omero-binary-backup")]),
    ],
    "OMERO-BACKUP-08": [
        Fault("binary-backup-stale", "the binary repository's backup has not run for three days",
              ["OMERO-BACKUP-08"],
              apply=[Run(RW, "find /mnt/backup_server/omero -exec touch -h -d '3 days ago' {} +")],
              revert=[Run(RW, "/etc/cron.daily/omero-binary-backup")]),
        Fault("backup-volume-not-mounted", "the backup volume is not mounted: an empty file system sits at its "
              "mount point", ["OMERO-BACKUP-08"],
              apply=[Run(RW, "mount -t tmpfs -o size=1m deploycheck-fault /mnt/backup_server")],
              revert=[Run(RW, "umount /mnt/backup_server")]),
    ],
    "OMERO-BACKUP-09": [
        Fault("binary-backup-corrupt", "the backup copy of an image's pixels is corrupted",
              ["OMERO-BACKUP-09"],
              apply=[Run(RW, "dd if=/dev/zero of=/mnt/backup_server/omero/Pixels/1 bs=1024 count=1 conv=notrunc "
                             "status=none")],
              revert=[Run(RW, "cp -p /data/OMERO/Pixels/1 /mnt/backup_server/omero/Pixels/1")],
              pytest_args=["--allow-disruptive"]),
        Fault("binary-backup-metadata-lost", "the backup's rdiff-backup-data folder is gone: nothing restores",
              ["OMERO-BACKUP-09"],
              apply=[Run(RW, f"mv {BINARY_BACKUP}/rdiff-backup-data /mnt/backup_server/rdiff-backup-data.fault")],
              revert=[Run(RW, f"mv /mnt/backup_server/rdiff-backup-data.fault {BINARY_BACKUP}/rdiff-backup-data")],
              pytest_args=["--allow-disruptive"]),
    ],
    "OMERO-BACKUP-10": [
        Fault("config-backup-masked", "the configuration backup was made as the backup docs write it, a plain "
              "`omero config get`: the database password is saved as ********", ["OMERO-BACKUP-10"],
              apply=[Run(RW, f"cp -p {CONFIG_BACKUP} /root/omero.config.orig && "
                             f"{OMERO_CLI} config get > {CONFIG_BACKUP}")],
              revert=[Run(RW, f"cp -p /root/omero.config.orig {CONFIG_BACKUP} && rm -f /root/omero.config.orig")],
              pytest_args=["--allow-disruptive"]),
        Fault("config-backup-stale", "the configuration backup predates a change: it names another database host",
              ["OMERO-BACKUP-10"],
              apply=[Run(RW, f"cp -p {CONFIG_BACKUP} /root/omero.config.orig && "
                             f"sed -i 's/^omero.db.host=.*/omero.db.host=old-database/' {CONFIG_BACKUP}")],
              revert=[Run(RW, f"cp -p /root/omero.config.orig {CONFIG_BACKUP} && rm -f /root/omero.config.orig")],
              pytest_args=["--allow-disruptive"]),
    ],
    "OMERO-BACKUP-11": [
        Fault("default-xml-copy-missing", "the hand-edited etc/grid/default.xml has no copy in the backup folder",
              ["OMERO-BACKUP-11"],
              apply=[Run(RW, "mv /data/OMERO/backup/default.xml /root/default.xml.backup")],
              revert=[Run(RW, "mv /root/default.xml.backup /data/OMERO/backup/default.xml")]),
        Fault("default-xml-copy-stale", "etc/grid/default.xml was edited again after its copy was made",
              ["OMERO-BACKUP-11"],
              apply=[Run(RW, f"cp -p {GRID_XML} /root/default.xml.orig && echo '<!-- edited -->' >> {GRID_XML}")],
              revert=[Run(RW, f"cp -p /root/default.xml.orig {GRID_XML} && rm -f /root/default.xml.orig")]),
    ],
    "OMERO-LOG-01": [
        Fault("log-not-rotating", "Blitz-0.log has grown to 600 MB: rotation no longer happens", ["OMERO-LOG-01"],
              apply=[Run(RW, f"mv {OMERO_LOGDIR}/Blitz-0.log /root/Blitz-0.log.orig && "
                             f"truncate -s 600M {OMERO_LOGDIR}/Blitz-0.log")],
              revert=[Run(RW, f"mv /root/Blitz-0.log.orig {OMERO_LOGDIR}/Blitz-0.log")]),
        Fault("rotated-logs-pile-up", "twelve uncompressed rotated Blitz-0.log files: something other than "
              "OMERO's rotation keeps them", ["OMERO-LOG-01"],
              apply=[Run(RO, f"for i in $(seq 1 12); do touch {OMERO_LOGDIR}/Blitz-0.log.$i; done")],
              revert=[Run(RO, f"for i in $(seq 1 12); do rm -f {OMERO_LOGDIR}/Blitz-0.log.$i; done")]),
    ],
    "OMERO-VER-01": [
        Fault("omero-server-5-5", "the read-write server runs OMERO.server 5.5", ["OMERO-VER-01"],
              apply=[Run(RW, f"cp -p {PROPS} /root/omero.properties.orig && sed -i "
                             f"'s/^omero.version=.*/omero.version=5.5.1-ice36-b122/' {PROPS}")],
              revert=[Run(RW, f"cp -p /root/omero.properties.orig {PROPS} && rm -f /root/omero.properties.orig")]),
    ],
    "OMERO-VER-02": [
        Fault("omero-web-5-4", "a read-only server runs OMERO.web 5.4", ["OMERO-VER-02"],
              apply=[Run(RO, "sed -i 's/^omeroweb_version = .*/omeroweb_version = \"5.4.10\"/' "
                             f"{WEB_VERSION} && systemctl restart omero-web && " + wait_port(4080))],
              revert=[Run(RO, "sed -i 's/^omeroweb_version = .*/omeroweb_version = \"5.26.0\"/' "
                              f"{WEB_VERSION} && systemctl restart omero-web && " + wait_port(4080))]),
    ],
}

VIDJIL: dict[str, list[Fault]] = {
    "VIDJIL-ADM-01": [
        Fault("vidjil-admin-over-http", "nginx's port 80 serves /admin to web2py as if it were HTTPS (scheme https, "
              "port 443, as behind a TLS load balancer): web2py's login form over plain HTTP", ["VIDJIL-ADM-01"],
              apply=[Run(V_NGINX, f"cp -p {V_SITE} /root/vidjil.conf.orig && printf '%s\\n' "
                                  "'location ^~ /admin { include uwsgi_params; uwsgi_param UWSGI_SCHEME https; "
                                  "uwsgi_param SERVER_PORT 443; resolver 127.0.0.11 valid=10s; "
                                  "set $upstream_uwsgi uwsgi; uwsgi_pass $upstream_uwsgi:8000; }' "
                                  f"> {V_PLAIN_ADMIN} && sed -i '0,/server_name _;/s%%server_name _; include "
                                  f"{V_PLAIN_ADMIN};%' {V_SITE} && nginx -s reload")],
              revert=[Run(V_NGINX, f"cp -p /root/vidjil.conf.orig {V_SITE} && rm -f /root/vidjil.conf.orig "
                                   f"{V_PLAIN_ADMIN} && nginx -s reload")]),
    ],
    "VIDJIL-ADM-02": [
        Fault("vidjil-admin-shipped-password", "web2py's admin password is Vidjil's test password foobartest "
              "(WEB2PY_ADMIN_PASSWORD copied from the test setup)", ["VIDJIL-ADM-02"],
              apply=[Run(V_UWSGI, f"cp -p {ADMIN_PARAMS} /root/parameters_443.orig && python3 -c \"from "
                                  "vidjilstub.admin import save_password; save_password('foobartest', 443)\"")],
              revert=[RESTORE_ADMIN_PARAMS]),
    ],
    "VIDJIL-AUTH-01": [
        Fault("vidjil-default-admin", "the documented default admin plop@plop.com / 1234 exists", ["VIDJIL-AUTH-01"],
              apply=[Run(V_UWSGI, "python3 -c \"from vidjilstub import db; c = db.connect(); c.cursor().execute("
                                  "'INSERT INTO auth_user (first_name, last_name, email, password) VALUES "
                                  "(%s, %s, %s, %s)', ('System', 'Administrator', 'plop@plop.com', "
                                  "db.web2py_hash('1234')))\"")],
              revert=[Run(V_MYSQL, vsql("DELETE FROM auth_user WHERE email = 'plop@plop.com'"))]),
        Fault("vidjil-default-admin-by-form", "the first admin was made with Vidjil's test credentials through "
              "the real first-admin form (init_db_form), which also makes them web2py's admin password",
              ["VIDJIL-AUTH-01", "VIDJIL-ADM-02"],
              apply=[Run(V_UWSGI, f"cp -p {ADMIN_PARAMS} /root/parameters_443.orig"),
                     Run(V_MYSQL, vsql("CREATE TABLE auth_user_fault AS SELECT * FROM auth_user; "
                                       "DELETE FROM auth_user")),
                     Run(V_UWSGI, "python3 -c \"import ssl, urllib.parse, urllib.request; urllib.request.urlopen("
                                  "'https://nginx/vidjil/default/init_db_form', urllib.parse.urlencode({'email': "
                                  "'plop@plop.com', 'password': 'foobartest', 'confirm_password': 'foobartest'})"
                                  ".encode(), timeout=20, context=ssl._create_unverified_context())\"")],
              revert=[Run(V_MYSQL, vsql("DELETE FROM auth_user; INSERT INTO auth_user SELECT * FROM "
                                        "auth_user_fault; DROP TABLE auth_user_fault")), RESTORE_ADMIN_PARAMS]),
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
        Fault("vidjil-backup-cron-no-user", "the backup cron line lacks the user field cron.d lines need",
              ["VIDJIL-BKP-01"],
              apply=[Run(V_BACKUP, "sed -i 's/^33 2 \\* \\* \\* root /33 2 * * * /' /etc/cron.d/vidjil-backup")],
              revert=[Run(V_BACKUP, "sed -i 's/^33 2 \\* \\* \\* sh /33 2 * * * root sh /' "
                                    "/etc/cron.d/vidjil-backup")]),
        Fault("vidjil-backup-cron-writable", "the backup cron file is writable by everyone: cron refuses it",
              ["VIDJIL-BKP-01"],
              apply=[Run(V_BACKUP, "chmod 0666 /etc/cron.d/vidjil-backup")],
              revert=[Run(V_BACKUP, "chmod 0644 /etc/cron.d/vidjil-backup")]),
    ],
    "VIDJIL-BKP-02": [
        Fault("vidjil-backup-stale", "the newest backup is three days old", ["VIDJIL-BKP-02"],
              apply=[Run(V_BACKUP, "touch -d '3 days ago' /mnt/backup/backup_*")],
              revert=[Run(V_BACKUP, "touch /mnt/backup/backup_*")]),
        Fault("vidjil-backup-dump-fails", "mysqldump fails inside a backup that otherwise completes (an empty "
              "dump zipped with the results)", ["VIDJIL-BKP-02"],
              apply=[Run(V_BACKUP, "cp /root/.my.cnf /root/my.cnf.fault && sed -i '/^\\[mysqldump\\]/,$ "
                                   "s/^host = .*/host = 127.0.0.1/' /root/.my.cnf && sleep 1 && "
                                   "sh /usr/share/vidjil/backup.sh vidjil /mnt/backup > /root/fault-archive")],
              revert=[Run(V_BACKUP, "mv /root/my.cnf.fault /root/.my.cnf && rm -f \"$(cat /root/fault-archive)\" "
                                    "/root/fault-archive")]),
    ],
    "VIDJIL-BKP-03": [
        Fault("vidjil-backup-user-writes", "the backup user was granted every privilege", ["VIDJIL-BKP-03"],
              apply=[Run(V_MYSQL, vsql("GRANT ALL ON vidjil.* TO 'backup'@'%'"))],
              revert=[Run(V_MYSQL, vsql("REVOKE ALL ON vidjil.* FROM 'backup'@'%'; "
                                        "GRANT SELECT, LOCK TABLES, SHOW VIEW ON vidjil.* TO 'backup'@'%'"))]),
        Fault("vidjil-backup-user-missing", "no backup database user, as release 2022.03 ships: the nightly "
              "backup zips an empty dump", ["VIDJIL-BKP-02", "VIDJIL-BKP-03"],
              apply=[Run(V_MYSQL, vsql("DROP USER 'backup'@'%'")),
                     Run(V_BACKUP, "sleep 1 && sh /usr/share/vidjil/backup.sh vidjil /mnt/backup "
                                   "> /root/fault-archive")],
              revert=[Run(V_MYSQL, f"{ROOT_SQL} \"CREATE USER 'backup'@'%' IDENTIFIED BY '$BACKUP_DB_PASSWORD'; "
                                   "GRANT SELECT, LOCK TABLES, SHOW VIEW ON vidjil.* TO 'backup'@'%'\""),
                      Run(V_BACKUP, "rm -f \"$(cat /root/fault-archive)\" /root/fault-archive")]),
    ],
    "VIDJIL-CFG-01": [
        Fault("vidjil-too-many-workers", "as many scheduler workers as CPUs", ["VIDJIL-CFG-01"],
              apply=[Compose("vidjil", "up -d --no-deps workers", override=V_OVERRIDE),
                     Run(V_MYSQL, "for i in $(seq 100); do [ $(" + ROOT_SQL + " 'SELECT count(*) FROM "
                                  "scheduler_worker' -N) -ge 4 ] && break; sleep 0.1; done")],
              revert=[Compose("vidjil", "up -d --no-deps workers"),
                      # the replaced workers' rows stay until a live worker removes them: wait a beat, drop them
                      Run(V_MYSQL, "sleep 6 && " + vsql("DELETE FROM scheduler_worker WHERE last_heartbeat < "
                                                        "NOW() - INTERVAL 6 SECOND"))]),
    ],
    "VIDJIL-CFG-02": [
        Fault("vidjil-autodelete-on", "AUTODELETE is turned on in the app model", ["VIDJIL-CFG-02"],
              apply=[Run(V_UWSGI, f"sed -i 's/^AUTODELETE = False/AUTODELETE = True/' {V_MODEL}")],
              revert=[Run(V_UWSGI, f"sed -i 's/^AUTODELETE = True/AUTODELETE = False/' {V_MODEL}")]),
        Fault("vidjil-autodelete-overridden", "a later line of the app model turns AUTODELETE back on",
              ["VIDJIL-CFG-02"],
              apply=[Run(V_UWSGI, f"cp {V_MODEL} /root/db.py.orig && printf 'AUTODELETE = True  # local change\\n' "
                                  f">> {V_MODEL}")],
              revert=[Run(V_UWSGI, f"cp /root/db.py.orig {V_MODEL} && rm -f /root/db.py.orig")]),
    ],
    "VIDJIL-CFG-03": [
        Fault("vidjil-germline-missing", "a germline file is missing from the client", ["VIDJIL-CFG-03"],
              apply=[Run(V_NGINX, "mv /usr/share/vidjil/germline/homo-sapiens/IGHV.fa /root/IGHV.fa")],
              revert=[Run(V_NGINX, "mv /root/IGHV.fa /usr/share/vidjil/germline/homo-sapiens/IGHV.fa")]),
    ],
    "VIDJIL-CTR-01": [
        Fault("vidjil-fuse-stopped", "the fuse service is stopped", ["VIDJIL-CTR-01"],
              apply=[Engine("stop", V_FUSE)]),
    ],
    "VIDJIL-CTR-02": [
        Fault("vidjil-no-restart-policy", "the workers service has no restart policy", ["VIDJIL-CTR-02"],
              apply=[Engine("update --restart=no", V_WORKERS)],
              revert=[Engine("update --restart=unless-stopped", V_WORKERS)]),
        Fault("vidjil-restart-on-failure-only", "uwsgi restarts on failure only: not after a reboot",
              ["VIDJIL-CTR-02"],
              apply=[Engine("update --restart=on-failure:3", V_UWSGI)],
              revert=[Engine("update --restart=unless-stopped", V_UWSGI)]),
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
        Fault("vidjil-shipped-app-password", "the app's vidjil account still has create_db.sql's password",
              ["VIDJIL-DB-01"],
              apply=[Run(V_MYSQL, vsql("ALTER USER 'vidjil'@'%' IDENTIFIED BY 'rootpass'"))],
              revert=[Run(V_MYSQL, "mysql -uroot -p\"$MYSQL_ROOT_PASSWORD\" -e \"ALTER USER 'vidjil'@'%' IDENTIFIED BY "
                                   "'$VIDJIL_DB_PASSWORD'\"")]),
    ],
    "VIDJIL-HTTP-01": [
        Fault("vidjil-http-served", "plain HTTP serves the site instead of redirecting", ["VIDJIL-HTTP-01"],
              apply=[Run(V_NGINX, "sed -i 's%return 301 https://$host$request_uri;%root /usr/share/vidjil/browser;%' "
                                  f"{V_SITE} && nginx -s reload")],
              revert=[Run(V_NGINX, "sed -i 's%root /usr/share/vidjil/browser; }%"
                                   f"return 301 https://$host$request_uri; }}%' {V_SITE} && nginx -s reload")]),
        Fault("vidjil-http-app-served", "plain HTTP redirects the pages but passes the web2py app to uwsgi",
              ["VIDJIL-HTTP-01"],
              apply=[Run(V_NGINX, f"cp {V_SITE} /root/vidjil.conf.orig && sed -i '0,/location \\/ {{/s%%"
                                  "location ~ ^/vidjil { include uwsgi_params; resolver 127.0.0.11; set $u uwsgi; "
                                  f"uwsgi_pass $u:8000; }}\\n    location / {{%' {V_SITE} && nginx -s reload")],
              revert=[Run(V_NGINX, f"cp /root/vidjil.conf.orig {V_SITE} && rm -f /root/vidjil.conf.orig && "
                                   "nginx -s reload")]),
    ],
    "VIDJIL-MON-01": [
        Fault("vidjil-task-stuck-queued", "a task has waited two hours in QUEUED (no worker serves its group)",
              ["VIDJIL-MON-01"],
              apply=[Run(V_MYSQL, vsql("INSERT INTO scheduler_task (application_name, task_name, group_name, status,"
                                       " function_name, uuid, start_time, next_run_time) VALUES ('vidjil', "
                                       "'fault', 'main', 'QUEUED', 'run_vidjil', 'deploycheck-fault', "
                                       "NOW() - INTERVAL 2 HOUR, NOW() - INTERVAL 2 HOUR)"))],
              revert=[Run(V_MYSQL, vsql("DELETE FROM scheduler_task WHERE uuid = 'deploycheck-fault'"))]),
        Fault("vidjil-workers-stopped", "the scheduler workers were stopped ten minutes ago (their rows stay "
              "behind, stale)", ["VIDJIL-MON-01", "VIDJIL-CTR-01"],
              apply=[Engine("stop", V_WORKERS),
                     Run(V_MYSQL, vsql("UPDATE scheduler_worker SET last_heartbeat = NOW() - INTERVAL 10 MINUTE"))],
              revert=[Engine("start", V_WORKERS)]),
    ],
    "VIDJIL-NET-01": [
        Fault("vidjil-fuse-published", "the fuse port 12789 is published on the host", ["VIDJIL-NET-01"],
              apply=[Compose("vidjil", "up -d --no-deps fuse", override=V_OVERRIDE)]),
        Fault("vidjil-uwsgi-published", "uwsgi's socket 8000 is published on the host", ["VIDJIL-NET-01"],
              apply=[Compose("vidjil", "up -d --no-deps uwsgi", override=V_OVERRIDE_2)]),
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
        Fault("vidjil-databases-in-container", "web2py's databases folder is an anonymous volume of workers",
              ["VIDJIL-VOL-01"],
              apply=[Compose("vidjil", "up -d --no-deps workers", override=V_OVERRIDE_2)],
              revert=[Compose("vidjil", "rm -s -f -v workers"), Compose("vidjil", "up -d --no-deps workers")]),
    ],
    "VIDJIL-VOL-02": [
        Fault("vidjil-upload-read-only", "the upload folder is mounted read-only into uwsgi", ["VIDJIL-VOL-02"],
              apply=[Compose("vidjil", "up -d --no-deps uwsgi", override=V_OVERRIDE)]),
    ],
}

# The new release beside the reference stack (fixtures/idr-candidate): faults the copy or the upgrade brings
C_PROXY, C_RW, C_DB = "idrc-proxy", "idrc-omeroreadwrite", "idrc-database"
PIXELS_1 = "/data/OMERO/Pixels/1"


def csql(sql: str) -> str:
    """Shell: SQL on the candidate's OMERO database, as postgres (foreign keys not enforced, as a bad copy
    or migration leaves them)."""
    return psql(f"SET session_replication_role = replica; {sql}")


CANDIDATE: dict[str, list[Fault]] = {
    "IDR-GATE-01": [
        Fault("gate-image-lost", "an image is lost in the new release (its row gone, its links left dangling)",
              ["IDR-GATE-01"],
              apply=[Run(C_DB, csql("CREATE TABLE fault_image AS SELECT * FROM image WHERE id = 2; "
                                    "DELETE FROM image WHERE id = 2;"))],
              revert=[Run(C_DB, csql("INSERT INTO image SELECT * FROM fault_image; DROP TABLE fault_image;"))]),
    ],
    "IDR-GATE-02": [
        Fault("gate-dataset-renamed", "a dataset is renamed in the new release", ["IDR-GATE-02"],
              apply=[Run(C_DB, csql("UPDATE dataset SET name = 'synthetic-cells-renamed' WHERE id = 1;"))],
              revert=[Run(C_DB, csql("UPDATE dataset SET name = 'synthetic-cells' WHERE id = 1;"))]),
        Fault("gate-project-lost-a-dataset", "a project's link to one of its datasets is lost (child count 1, not 2)",
              ["IDR-GATE-02"],
              apply=[Run(C_DB, csql("CREATE TABLE fault_pdl AS SELECT * FROM projectdatasetlink WHERE child = 2; "
                                    "DELETE FROM projectdatasetlink WHERE child = 2;"))],
              revert=[Run(C_DB, csql("INSERT INTO projectdatasetlink SELECT * FROM fault_pdl; "
                                     "DROP TABLE fault_pdl;"))]),
    ],
    "IDR-GATE-03": [
        Fault("gate-rendering-changed", "an image's second channel is shown magenta instead of green",
              ["IDR-GATE-03"],
              apply=[Run(C_DB, csql("UPDATE channelbinding SET red = 255, green = 0, blue = 255 "
                                    "WHERE renderingdef = 1 AND renderingdef_index = 1;"))],
              revert=[Run(C_DB, csql("UPDATE channelbinding SET red = 0, green = 255, blue = 0 "
                                     "WHERE renderingdef = 1 AND renderingdef_index = 1;"))]),
    ],
    "IDR-GATE-04": [
        Fault("gate-pixels-corrupted", "the first rows of an image's first plane are damaged in the cloned binary "
              "repository", ["IDR-GATE-04"],
              apply=[Run(C_RW, f"cp -p {PIXELS_1} /root/pixels-1.orig && "
                               f"head -c 16384 /dev/urandom | dd of={PIXELS_1} conv=notrunc status=none")],
              revert=[Run(C_RW, f"cp -p /root/pixels-1.orig {PIXELS_1} && rm -f /root/pixels-1.orig")]),
    ],
    "IDR-GATE-05": [
        Fault("gate-cache-off", "the new release's proxy caches nothing (proxy_cache off)", ["IDR-GATE-05"],
              apply=[Edit(C_PROXY, CACHED_INC, "proxy_cache $cache_zone_name;", "proxy_cache off;",
                          then="nginx -s reload")]),
    ],
}

CATALOGUE: dict[str, dict[str, list[Fault]]] = {"idr": IDR, "vidjil": VIDJIL,  # stack -> control id -> faults
                                                 "idr-candidate": CANDIDATE}
