"""Every inventory variable a control reads, declared once with its meaning
and default. Controls ask ``expect(host, "name")``; an undeclared name is a
programming error, not a silent default."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deploycheck.inventory import connection
from deploycheck.inventory.loader import Host, Inventory


@dataclass(frozen=True)
class Variable:
    name: str
    default: Any
    description: str
    required_for: tuple[str, ...] = ()  # groups whose hosts must set it (no safe default)


# Groups the controls know; others are a typo unless listed in deploycheck_extra_groups.
KNOWN_GROUPS = {"all", "ungrouped", "proxy", "omeroreadonly", "omeroreadwrite", "database", "outside", "vidjil"}


VARIABLES: dict[str, Variable] = {
    v.name: v
    for v in [
        Variable("public_url", None, "Base URL of the public site on the proxy (port 80).", ("proxy",)),
        Variable("allowed_public_ports", [22, 80, 443, 873, 4063, 4064],
                 "TCP ports the proxy may listen on for the outside world."),
        Variable("loopback_only_ports", [9000, 8009],
                 "Proxy ports that must listen on loopback only (cache-buster, long-query)."),
        Variable("cachebuster_port", 9000, "The proxy's cache-buster port (seed 000)."),
        Variable("longquery_port", 8009, "The proxy's long-query port, or null when the deployment has none."),
        Variable("session_cookie_name", "sessionid", "OMERO.web session cookie (IDR: sessionid_idr)."),
        Variable("proxy_access_log", "/var/log/nginx/access.log", "The proxy's access log."),
        Variable("cache_status_header", None,
                 "Debug response header carrying the cache status, or null to read the access log."),
        Variable("maintenance_flag", "/srv/www/omero-maintenance.flag", "The proxy's maintenance flag file."),
        Variable("expected_units", [], "systemd units that must be enabled and active on the host."),
        Variable("test_image", {"id": 1, "size_x": 256, "size_y": 256, "size_c": 3, "size_z": 5},
                 "An image the render controls use, with its known sizes."),
        Variable("public_entry_path", "/webclient/?experimenter=-1",
                 "Page an anonymous visitor opens first (gets the public user's session)."),
        Variable("data_mounts", [], "Paths that must be separate mount points (volumes) on the host."),
        Variable("bioformats_cache_dir", "/data/BioFormatsCache", "Bio-Formats memo file cache on read-write."),
        Variable("pg_data_dir", "/var/lib/pgsql/15/data", "PostgreSQL data directory on the database host."),
        Variable("pg_dump_job", "/etc/cron.daily/omero-pgdump", "The daily database dump job."),
        Variable("http_timeout", 10.0, "Seconds allowed for one HTTP request."),
        Variable("private_ports", [],
                 "Ports of the host that must not be reachable from the outside vantage point."),
        Variable("outside_address", None,
                 "The host's address as the outside vantage point would use it (default: ansible_host or name)."),
        Variable("restart_units", [], "Units that must restart on failure (Restart= set)."),
        Variable("nginx_cache_dir", "/var/cache/nginx", "The proxy's cache directory (its own volume)."),
        Variable("readonly_upstream", "omeroreadonly", "Name of the proxy's nginx upstream of read-only servers."),
        Variable("omero_user", "omero-server", "System user that runs OMERO.server and owns the binary repository."),
        Variable("omero_data_dir", "/data/OMERO", "OMERO data directory (omero.data.dir, the binary repository)."),
        Variable("db_name", "omero", "The OMERO database."),
        Variable("db_port", 5432, "PostgreSQL port on the database host."),
        Variable("db_user", "omero", "The read-write OMERO database role."),
        Variable("db_password", None, "Password of db_user (secret)."),
        Variable("readonly_db_user", "omeroreadonly", "The read-only servers' database role."),
        Variable("readonly_db_password", None, "Password of readonly_db_user (secret)."),
        Variable("readonly_statement_timeout_s", [1, 60],
                 "Bounds [min, max] in seconds for the read-only role's statement timeout."),
        Variable("pg_dump_dir", "/OMERO/backup/database", "Where the daily pg_dump job writes its dumps."),
        Variable("backup_max_age_h", 26, "Hours after which the newest backup counts as stale."),
        Variable("config_backup", "/OMERO/backup/omero.config", "The `omero config get` backup file."),
        Variable("backup_tools", ["rdiff-backup", "rsync", "tar", "borg", "restic", "duplicity", "rclone", "bacula",
                                  "zfs", "btrfs"],
                 "Programs a binary-repository backup job may run (one must appear in the job)."),
        Variable("binary_backup_dir", None,
                 "Local folder the daily binary-repository backup writes to (checked for age); null when it "
                 "goes to another machine (then only the job is checked)."),
        Variable("binary_restore_command", None,
                 "Restores one path of the binary-repository backup (drill, --allow-disruptive): a shell "
                 "template with {backup} (binary_backup_dir), {sample} and {target}; null: no drill."),
        Variable("binary_restore_sample", None,
                 "A path inside the binary repository that never changes once written (e.g. Pixels/1), "
                 "restored by the drill and compared with the live copy."),
        Variable("memo_regen_dir", None,
                 "Folder holding regen-memo-files.sh results (rslt.*); null when memo regeneration is not run."),
        Variable("memo_fail_max_pct", 5.0, "Largest acceptable share of failed memo files, in percent."),
        Variable("ms_config", "/opt/omero/omero-ms-image-region/conf/config.yaml",
                 "The image-region microservice's config.yaml."),
        Variable("ms_port", 8081, "Port the image-region microservice listens on."),
        Variable("ms_unit", "omero-ms-image-region.service",
                 "The microservice's systemd unit, installed in /etc/systemd/system as seed 003 says."),
        Variable("public_https_url", "https://localhost",
                 "The public site over HTTPS, with the host name its certificate must name."),
        Variable("tls_ca_file", None, "CA bundle that must verify the proxy's certificate (null: system store)."),
        Variable("tls_min_days", 14, "Days a certificate must still be valid for."),
        Variable("longquery_probe_path", None,
                 "A cacheable URL whose SQL exceeds the read-only statement timeout (for the 8009 control)."),
        Variable("test_mask", {"id": 1, "width": 48, "height": 32}, "A mask shape and its size."),
        Variable("big_image", None, "A pyramid image: {id, size_x, size_y, levels} (tile level controls)."),
        Variable("ms_metric", "omero_ms_image_region_requests_total",
                 "The microservice's Prometheus counter of handled requests (label route)."),
        Variable("private_user", None, "A non-public OMERO user for the leak control (logs in on a backend host)."),
        Variable("private_password", None, "Password of private_user (secret)."),
        Variable("docker_host", None, "Docker engine of a compose deployment (e.g. ssh://admin@host); null: local."),
        Variable("compose_project", None, "The compose project name of the deployment.", ("vidjil",)),
        Variable("deploycheck_extra_groups", [], "Inventory groups deploycheck should ignore (not typos)."),
        Variable("expected_services", [], "Compose services that must be running."),
        Variable("persistent_paths", {"mysql": ["/var/lib/mysql"], "nginx": ["/var/log/nginx"],
                                      "uwsgi": ["/mnt/upload", "/mnt/result", "/var/vidjil"]},
                 "Container paths (by compose service) whose files must live outside the containers: the "
                 "database, uploads, results and logs (host folders under /opt/vidjil by default)."),
        Variable("private_services", {}, "service -> ports that must not be published outside the compose network."),
        Variable("vidjil_url", None, "Vidjil's plain HTTP address.", ("vidjil",)),
        Variable("self_signed_allowed", False, "Whether a self-signed certificate is acceptable (test stacks)."),
        Variable("default_logins", [["plop@plop.com", "1234"], ["plop@plop.com", "foobartest"]],
                 "Shipped credentials that must not log in: [email, password] pairs."),
        Variable("shipped_db_passwords", {"root": "MySRPimSRP", "vidjil": "rootpass"},
                 "Database passwords shipped with Vidjil's compose files, which must have been changed."),
        Variable("vidjil_admin_email", None, "A working Vidjil login, to prove the login check can succeed."),
        Variable("vidjil_admin_password", None, "Password of vidjil_admin_email (secret)."),
        Variable("backup_dir", "/mnt/backup", "Backup folder inside the backup service."),
        Variable("vidjil_app_model", "/usr/share/vidjil/server/web2py/applications/vidjil/models/db.py",
                 "The web2py app model file (holds AUTODELETE) in the uwsgi service."),
        Variable("germline_paths", ["/germline/IGHV.fa", "/js/germline.js"], "Germline files the site serves."),
        Variable("ready_urls", [], "Extra URLs (absolute or below public_url) --wait-ready waits for (< 500)."),
        Variable("restore_scratch_db", "deploycheck_restore_drill",
                 "Scratch database the disruptive restore drill creates and drops."),
    ]
}


def validate(inventory: Inventory) -> list[str]:
    """Problems that make the inventory unusable: unknown groups, hosts that cannot be
    reached as configured, required variables unset."""
    problems: list[str] = []
    extra: set[str] = set()
    for host in inventory.hosts.values():
        extra |= set(host.vars.get("deploycheck_extra_groups") or [])
    unknown = sorted(g for g in inventory.groups if g not in KNOWN_GROUPS | extra)
    if unknown:
        problems.append(f"unknown group(s) {', '.join(unknown)} (known: {', '.join(sorted(KNOWN_GROUPS - {'all'}))};"
                        " list others in deploycheck_extra_groups)")
    for host in inventory.hosts.values():
        problems += connection.problems(host)
    for host in inventory.hosts.values():
        problems += [f"variable {name} of {host.name} is {kind}" for name, kind in _type_problems(host)]
    for var in VARIABLES.values():
        for group in var.required_for:
            missing = [h.name for h in inventory.group(group) if var.name not in h.vars]
            if missing:
                problems.append(f"variable {var.name} is not set for {', '.join(missing)} (group {group})")
    return problems


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "a string" if isinstance(value, str) else type(value).__name__


def _type_problems(host: Host) -> list[tuple[str, str]]:
    """Declared variables whose value is not of their default's kind (a string
    where a list of units is expected would be read one letter at a time).
    A variable with no default, or set to null, takes any value."""
    found = []
    for name, value in host.vars.items():
        var = VARIABLES.get(name)
        if var is None or var.default is None or value is None:
            continue
        want, got = _kind(var.default), _kind(value)
        if want != got and not (want == "a number" and got == "a number"):
            found.append((name, f"{got}; expected {want} like its default {var.default!r}"))
    return found


def expect(host: Host | None, name: str, inventory_vars: dict[str, Any] | None = None) -> Any:
    """The value of a declared variable for a host (or global vars), else its default."""
    if name not in VARIABLES:
        raise KeyError(f"undeclared inventory variable '{name}' (declare it in deploycheck/inventory/variables.py)")
    source = host.vars if host is not None else (inventory_vars or {})
    return source.get(name, VARIABLES[name].default)
