"""Every inventory variable a control reads, declared once with its meaning
and default. Controls ask ``expect(host, "name")``; an undeclared name is a
programming error, not a silent default.

An expectation comes from, in this order: the deploycheck variable when the
inventory sets it; else the deployment's own Ansible variable that configures
the same thing, where the deployment used the public roles (IDR/deployment's
group_vars, the ome roles); else the default. Values are rendered with
Ansible's templating for the host that reads them."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Any

from deploycheck.inventory import connection, urlpath
from deploycheck.inventory.loader import Inventory, Node, RenderError
from deploycheck.report.redact import host_value


@dataclass(frozen=True)
class Derived:
    """An expectation read from a deployment variable: ``template`` rendered
    when the host (or the first host of ``role``) has ``needs``."""

    needs: str
    template: str
    role: str | None = None  # the role whose hosts carry the deployment variable, when not the reading host's


@dataclass(frozen=True)
class Variable:
    name: str
    default: Any
    description: str
    required_for: tuple[str, ...] = ()  # roles whose hosts must set it (no safe default)
    deployment: tuple[Derived, ...] = ()  # the deployment's own variables for the same setting, first found wins
    secret: bool = False  # masked in every output whatever its name, with the deployment variables it is read from


def _var(name: str, role: str | None = None) -> Derived:
    return Derived(name, "{{ " + name + " }}", role)


IDR_READONLY_DB = "idr_omero_readonly_database"  # IDR/deployment group_vars/database-hosts.yml
WEB_CONFIG = "omero_web_config_set"  # ome/ansible-role-omero-web: omero.web.* settings
VIDJIL_DATABASES = "/usr/share/vidjil/server/web2py/applications/vidjil/databases"  # web2py's table files


VARIABLES: dict[str, Variable] = {
    v.name: v
    for v in [
        Variable("public_url", None, "Base URL of the public site on the proxy (port 80).", ("proxy",)),
        Variable("allowed_public_ports", [22, 80, 443, 873, 4063, 4064],
                 "TCP ports the proxy may listen on for the outside world."),
        Variable("loopback_only_ports", [9000, 8009],
                 "Proxy ports that must listen on loopback only (cache-buster, long-query)."),
        Variable("cachebuster_port", 9000, "The proxy's cache-buster port (seed 000).",
                 deployment=(Derived("nginx_proxy_cachebuster_port", "{{ nginx_proxy_cachebuster_port | int }}"),)),
        Variable("longquery_port", 8009, "The proxy's long-query port, or null when the deployment has none."),
        Variable("session_cookie_name", "sessionid", "OMERO.web session cookie (IDR: sessionid_idr).",
                 deployment=(
                     Derived(WEB_CONFIG, "{{ omero_web_config_set['omero.web.session_cookie_name'] }}",
                             "omeroreadonly"),
                     _var("omero_ms_image_region_session_id", "omeroreadonly"))),
        Variable("proxy_access_log", "/var/log/nginx/access.log", "The proxy's access log."),
        Variable("cache_status_header", None,
                 "Debug response header carrying the cache status, or null to read the access log."),
        Variable("maintenance_flag", "/srv/www/omero-maintenance.flag", "The proxy's maintenance flag file.",
                 deployment=(_var("omero_maintenance_flag"),)),
        Variable("expected_units", [], "systemd units that must be enabled and active on the host."),
        Variable("test_image", {"id": 1, "size_x": 256, "size_y": 256, "size_c": 3, "size_z": 5},
                 "An image the render controls use, with its known sizes."),
        Variable("public_entry_path", "/webclient/?experimenter=-1",
                 "Page an anonymous visitor opens first (gets the public user's session)."),
        Variable("data_mounts", [], "Paths that must be separate mount points (volumes) on the host."),
        Variable("bioformats_cache_dir", "/data/BioFormatsCache", "Bio-Formats memo file cache on read-write."),
        Variable("pg_data_dir", "/var/lib/pgsql/15/data", "PostgreSQL data directory on the database host.",
                 deployment=(Derived("postgresql_version", "/var/lib/pgsql/{{ postgresql_version }}/data"),)),
        Variable("pg_dump_job", "/etc/cron.daily/omero-pgdump", "The daily database dump job."),
        Variable("http_timeout", 10.0, "Seconds allowed for one HTTP request."),
        Variable("private_ports", [],
                 "Ports of the host that must not be reachable from the outside vantage point."),
        Variable("outside_address", None,
                 "The host's address as the outside vantage point would use it (default: ansible_host or name)."),
        Variable("restart_units", [], "Units that must restart on failure (Restart= set)."),
        Variable("nginx_cache_dir", "/var/cache/nginx", "The proxy's cache directory (its own volume).",
                 deployment=(_var("nginx_proxy_cache_parent_path"),)),
        Variable("readonly_upstream", "omeroreadonly", "Name of the proxy's nginx upstream of read-only servers."),
        Variable("readonly_web_servers", None,
                 "How many read-only servers (the first, by address) serve the web; null: all of them.",
                 deployment=(Derived("idr_backend_reserved_offset", "{{ idr_backend_reserved_offset | int }}"),)),
        Variable("omero_user", "omero-server", "System user that runs OMERO.server and owns the binary repository."),
        Variable("omero_data_dir", "/data/OMERO", "OMERO data directory (omero.data.dir, the binary repository).",
                 deployment=(_var("omero_server_datadir"),)),
        Variable("db_name", "omero", "The OMERO database.",
                 deployment=(
                     Derived(IDR_READONLY_DB, "{{ idr_omero_readonly_database.name }}"), _var("omero_server_dbname"))),
        Variable("db_port", 5432, "PostgreSQL port on the database host."),
        Variable("db_user", "omero", "The read-write OMERO database role."),
        Variable("db_password", None, "Password of db_user (secret).",
                 deployment=(_var("idr_secret_postgresql_password"),
                             _var("omero_server_dbpassword", "omeroreadwrite")), secret=True),
        Variable("readonly_db_user", "omeroreadonly", "The read-only servers' database role.",
                 deployment=(
                     Derived(IDR_READONLY_DB, "{{ idr_omero_readonly_database.user }}"),)),
        Variable("readonly_db_password", None, "Password of readonly_db_user (secret).",
                 deployment=(Derived(IDR_READONLY_DB, "{{ idr_omero_readonly_database.password }}"),
                             _var("idr_secret_postgresql_password_ro")), secret=True),
        Variable("readonly_statement_timeout_s", [1, 60],
                 "Bounds [min, max] in seconds for the read-only role's statement timeout.",
                 deployment=(Derived(IDR_READONLY_DB, "{{ [idr_omero_readonly_database.statement_timeout | int / 1000]"
                                                      " * 2 }}"),)),
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
        Variable("ms_port", 8081, "Port the image-region microservice listens on.",
                 deployment=(Derived("omero_ms_image_region_port", "{{ omero_ms_image_region_port | int }}"),)),
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
        Variable("ms_metric", "spanDuration",
                 "The microservice's tracing summary on /metrics (omero-ms-core; labels spanName, error)."),
        Variable("private_user", None, "A non-public OMERO user for the leak control (logs in on a backend host)."),
        Variable("release_baseline_url", None,
                 "Public URL of the deployment this one replaces (seed 000, New releases): the IDR-GATE controls "
                 "compare this deployment's public data with it. --baseline=URL|INVENTORY overrides it."),
        Variable("release_sample", 3,
                 "How many objects of each kind (projects, datasets, screens, plates, images) the release gate "
                 "samples on the baseline, 1 to 50."),
        Variable("private_password", None, "Password of private_user (secret).", secret=True),
        Variable("docker_host", None, "Docker engine of a compose deployment (e.g. ssh://admin@host); null: local."),
        Variable("compose_project", None, "The compose project name of the deployment.", ("vidjil",)),
        Variable("deploycheck_groups", {}, "Roles mapped to the inventory's own group names, e.g. {proxy: web-front}."),
        Variable("expected_services", [], "Compose services that must be running."),
        Variable("persistent_paths", {"mysql": ["/var/lib/mysql"], "nginx": ["/var/log/nginx"],
                                      "uwsgi": ["/mnt/upload/uploads", "/mnt/result/results", "/mnt/result/tmp",
                                                VIDJIL_DATABASES, "/var/vidjil"],
                                      "workers": ["/mnt/upload/uploads", "/mnt/result/results", "/mnt/result/tmp",
                                                  VIDJIL_DATABASES],
                                      "backup": ["/mnt/backup"]},
                 "Container paths (by compose service) whose files must live outside the containers: the "
                 "database, uploads, results, web2py's databases folder and logs (release 2022.03 mounts "
                 "these folders of /opt/vidjil)."),
        Variable("private_services", {"fuse": [12789], "mysql": [3306], "uwsgi": [8000], "redis": [6379],
                                      "flower": [5555]},
                 "service -> ports that must not be published outside the compose network (services the "
                 "deployment lacks are passed over)."),
        Variable("vidjil_url", None, "Vidjil's plain HTTP address.", ("vidjil",)),
        Variable("self_signed_allowed", False, "Whether a self-signed certificate is acceptable (test stacks)."),
        Variable("omero_server_dir", "/opt/omero/server/OMERO.server",
                 "OMERO.server's installation folder (ome/ansible-role-omero-server's place): etc/, var/log."),
        Variable("omero_cli", "/opt/omero/server/OMERO.server/bin/omero",
                 "The OMERO CLI on the server hosts (ome/ansible-role-omero-server's place)."),
        Variable("omero_logs_mount", None,
                 "The mount point OMERO.server's log folder must be on, when the deployment moved its logs to "
                 "storage of their own (seed 002: OMERO_LOGS in etc/grid/default.xml); null: not checked."),
        Variable("grid_default_xml_edited", False,
                 "Whether the deployment edited etc/grid/default.xml by hand (then its copy must be in the backup)."),
        Variable("default_xml_backup", "/OMERO/backup/default.xml",
                 "Where the copy of a hand-edited etc/grid/default.xml is kept."),
        Variable("min_omero_version", "5.6", "Oldest OMERO.server and OMERO.web the docs support (seed 003)."),
        Variable("web2py_dir", "/usr/share/vidjil/server/web2py",
                 "web2py's folder in the web2py service (its parameters_<port>.py holds the admin password hash)."),
        Variable("web2py_service", "uwsgi", "The compose service running web2py."),
        Variable("web2py_admin_port", 443,
                 "The port web2py sees for admin requests (SERVER_PORT from the front nginx): it names the "
                 "password file."),
        Variable("default_logins", [["plop@plop.com", "1234"], ["plop@plop.com", "foobartest"]],
                 "Shipped credentials that must not log in: [email, password] pairs."),
        Variable("shipped_db_passwords", {"root": ["MySRPimSRP", "mysql_root_password", "rootpass"],
                                          "vidjil": ["rootpass"]},
                 "Database passwords Vidjil's repository has shipped (compose files, create_db.sql, .env-default), "
                 "account -> passwords, which must all have been changed."),
        Variable("vidjil_admin_email", None, "A working Vidjil login, to prove the login check can succeed."),
        Variable("vidjil_admin_password", None, "Password of vidjil_admin_email (secret).", secret=True),
        Variable("backup_dir", "/mnt/backup", "Backup folder inside the backup service."),
        Variable("vidjil_app_model", "/usr/share/vidjil/server/web2py/applications/vidjil/models/db.py",
                 "The web2py app model file (holds AUTODELETE) in the uwsgi service."),
        Variable("germline_paths", ["/germline/homo-sapiens/IGHV.fa", "/js/germline.js"],
                 "Germline files the site serves."),
        Variable("worker_heartbeat_max_s", 15,
                 "Seconds after which a scheduler worker's last heartbeat is stale (web2py: 3 heartbeats of 5 s)."),
        Variable("queued_max_age_s", 3600,
                 "Seconds a task may wait in QUEUED (release 2022.03 resets the workers after an hour)."),
        Variable("ready_urls", [], "Extra URLs (absolute or below public_url) --wait-ready waits for (< 500)."),
        Variable("restore_scratch_db", "deploycheck_restore_drill",
                 "Scratch database the disruptive restore drill creates and drops."),
    ]
}


def validate(inventory: Inventory) -> list[str]:
    """Problems that make the inventory unusable: hosts that cannot be reached
    as configured, required variables unset, values of the wrong kind."""
    problems: list[str] = []
    for host in inventory.hosts.values():
        problems += connection.problems(host)
        problems += [f"variable {name} of {host.name} is {kind}" for name, kind in _type_problems(host)]
        problems += _name_problems(host)
    for var in VARIABLES.values():
        for role in var.required_for:
            missing = [h.name for h in inventory.group(role) if var.name not in h.vars]
            if missing:
                problems.append(f"variable {var.name} is not set for {', '.join(missing)} (group "
                                f"{inventory.roles.get(role, role)})")
    return problems


def _absolute(value: object) -> bool:
    return isinstance(value, str) and value.startswith("/")


# Paths that go into remote command lines (find, stat, sed...): absolute or nothing. A value such as
# "-delete" would otherwise be read as an option or a find expression, whatever its quoting.
PATH_VARIABLES = frozenset(
    [v.name for v in VARIABLES.values()
     if _absolute(v.default) or (isinstance(v.default, list) and v.default and all(map(_absolute, v.default)))]
    + ["data_mounts", "binary_backup_dir", "memo_regen_dir", "omero_logs_mount"])
ADDRESS_VARIABLES = ("outside_address",)  # host names probes connect to: never an option
# URL paths appended to a base URL deploycheck chose, and the base URLs themselves (see urlpath)
URL_PATH_VARIABLES = {"public_entry_path": urlpath.path_problem, "longquery_probe_path": urlpath.path_problem,
                      "germline_paths": urlpath.path_problem, "ready_urls": urlpath.path_or_url_problem,
                      "public_url": urlpath.url_problem, "public_https_url": urlpath.url_problem,
                      "vidjil_url": urlpath.url_problem, "release_baseline_url": urlpath.url_problem}
INSIDE_VARIABLES = ("binary_restore_sample",)  # paths below a folder deploycheck names: never out of it


def _outside_problem(value: object) -> str | None:
    text = str(value)
    if text.startswith("/") or posixpath.normpath(text) != text or text == "." or ".." in text.split("/"):
        return "not a normalised relative path without '..'"
    return None


def _value_problem(host: Node, name: str, items: list[object]) -> str | None:
    """URL paths and paths inside a folder: why the first bad item is refused."""
    check = URL_PATH_VARIABLES.get(name) or (_outside_problem if name in INSIDE_VARIABLES else None)
    if check is None:
        return None
    for item in items:
        if item not in (None, "") and (why := check(item)) is not None:
            return f"holds {host_value(host, item)}: {why}"
    return None


def unsafe_value(host: Node, name: str, value: object) -> str | None:
    """Why ``value`` may not be used for ``name`` on a command line, or None
    (the value quoted masked, then cut)."""
    items = value if isinstance(value, list) else [value]
    if (why := _value_problem(host, name, items)) is not None:
        return why
    if name in PATH_VARIABLES:
        bad = [v for v in items if v not in (None, "") and not _absolute(v)]
        if bad:
            return f"holds {host_value(host, bad[0])}, not an absolute path"
    if name in ADDRESS_VARIABLES:
        bad = [v for v in items if v not in (None, "") and (str(v).startswith("-") or any(c.isspace() for c in str(v)))]
        if bad:
            return f"holds {host_value(host, bad[0])}, not a host name or address"
    return None


UNIT_VARIABLES = ("expected_units", "restart_units", "ms_unit")  # names that go into systemctl command lines
UNIT_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9:_.@\\-]*")  # systemd's unit name characters, no leading '-'


def _name_problems(host: Node) -> list[str]:
    """Unit names are checked, not only quoted: a value that is no unit name is a typo or an attack."""
    found = []
    for name in UNIT_VARIABLES:
        if name not in host.vars:
            continue
        try:
            value = host.render(name, host.vars[name])
        except RenderError:
            continue
        bad = [u for u in (value if isinstance(value, list) else [value]) if not UNIT_NAME.fullmatch(str(u))]
        if bad:
            found.append(f"variable {name} of {host.name} holds {host_value(host, bad[0])}, not a systemd unit name")
    checked = PATH_VARIABLES | set(ADDRESS_VARIABLES) | set(URL_PATH_VARIABLES) | set(INSIDE_VARIABLES)
    for name in sorted(checked & set(host.vars)):
        try:
            value = host.render(name, host.vars[name])
        except RenderError:
            continue
        if (why := unsafe_value(host, name, value)) is not None:
            found.append(f"variable {name} of {host.name} {why}")
    return found


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


def _type_problems(host: Node) -> list[tuple[str, str]]:
    """Declared variables whose value is not of their default's kind (a string
    where a list of units is expected would be read one letter at a time).
    A variable with no default, or set to null, takes any value; one that
    cannot be rendered yet fails the controls that read it, later."""
    found = []
    for name in host.vars:
        var = VARIABLES.get(name)
        if var is None or var.default is None:
            continue
        try:
            value = _coerce(host.render(name, host.vars[name]), var.default)
        except RenderError:
            continue
        if value is not None and _kind(var.default) != _kind(value):
            found.append((name, f"{_kind(value)}; expected {_kind(var.default)} like its default {var.default!r}"))
    return found


def resolve(host: Node, name: str) -> tuple[Any, str]:
    """A declared variable's value for the host and where it came from."""
    if name not in VARIABLES:
        raise KeyError(f"undeclared inventory variable '{name}' (declare it in deploycheck/inventory/variables.py)")
    default = VARIABLES[name].default
    if name in host.vars:
        return _checked(host, name, _coerce(host.render(name, host.vars[name]), default)), "deploycheck variable"
    for derived in VARIABLES[name].deployment:
        source = host.peer(derived.role) if derived.role else host
        if source is None or derived.needs not in source.context:
            continue
        try:
            value = _coerce(source.render(name, derived.template), default)
        except RenderError:
            continue  # e.g. the setting is absent from the deployment's mapping: the next source, or the default
        return _checked(host, name, value), f"deployment variable {derived.needs} of {source.name}"
    return default, "default"


def _checked(host: Node, name: str, value: Any) -> Any:
    """A value from the deployment's own variables is checked like one set
    for deploycheck: a path that is not absolute never reaches a command line."""
    why = unsafe_value(host, name, value)
    if why is not None:
        raise RenderError(f"variable {name} of {host.name} {why}")
    return value


def _coerce(value: Any, default: Any) -> Any:
    """A rendered template is text: ``"{{ port }}"`` gives "9000". Where the
    default is a number or a boolean, text that spells one becomes one."""
    if not isinstance(value, str) or isinstance(default, str) or default is None:
        return value
    text = value.strip()
    if isinstance(default, bool):
        return {"true": True, "yes": True, "false": False, "no": False}.get(text.lower(), value)
    if isinstance(default, int | float):
        for kind in (int, float):
            try:
                return kind(text)
            except ValueError:
                continue
    return value


def expect(host: Node, name: str) -> Any:
    """The value of a declared variable for a host: its own, the deployment's, or the default."""
    return resolve(host, name)[0]
