"""Every inventory variable a control reads, declared once with its meaning
and default. Controls ask ``expect(host, "name")``; an undeclared name is a
programming error, not a silent default."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deploycheck.inventory import Host


@dataclass(frozen=True)
class Variable:
    name: str
    default: Any
    description: str


VARIABLES: dict[str, Variable] = {
    v.name: v
    for v in [
        Variable("public_url", "http://127.0.0.1", "Base URL of the public site on the proxy (port 80)."),
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
    ]
}


def expect(host: Host | None, name: str, inventory_vars: dict[str, Any] | None = None) -> Any:
    """The value of a declared variable for a host (or global vars), else its default."""
    if name not in VARIABLES:
        raise KeyError(f"undeclared inventory variable '{name}' (declare it in deploycheck/variables.py)")
    source = host.vars if host is not None else (inventory_vars or {})
    return source.get(name, VARIABLES[name].default)
