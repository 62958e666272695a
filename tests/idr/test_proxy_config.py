"""idr-proxy's configuration and state after a deploy (seeds 000/001)."""

from __future__ import annotations

import re

import pytest

from deploycheck.control import control
from deploycheck.facts import hostfacts, nginx
from deploycheck.inventory.loader import Inventory
from deploycheck.inventory.variables import expect

PROXY_REF = "seed 000: idr-proxy"


@control("IDR-NGINX-01", "The proxy's nginx configuration passes nginx -t", "high", PROXY_REF)
@pytest.mark.hosts("proxy")
def test_nginx_config_valid(node, host) -> None:  # noqa: ANN001
    """A broken file on disk makes the next reload or reboot take the site down."""
    result = host.run("nginx -t")
    last = (result.stderr.strip().splitlines() or ["?"])[-1]
    assert result.rc == 0, f"{node.name}: nginx -t failed: {last}"


@control("IDR-PROXY-03", "The proxy cache directory is its own volume", "medium",
         "seed 000: Backups (idr-proxy:/var/cache/nginx, a separate volume)")
@pytest.mark.hosts("proxy")
def test_cache_dir_is_volume(node, host) -> None:  # noqa: ANN001
    path = expect(node, "nginx_cache_dir")
    assert hostfacts.path(node, path).mount_point, f"{node.name}: {path} is not a mount point; expected its own volume"


@control("IDR-PROXY-04", "The proxy cache directory belongs to the nginx worker user", "high", PROXY_REF)
@pytest.mark.hosts("proxy")
def test_cache_dir_owner(node, host) -> None:  # noqa: ANN001
    path = expect(node, "nginx_cache_dir")
    user = nginx.worker_user(nginx.dump(node))
    f = hostfacts.path(node, path)
    assert f.is_directory, f"{node.name}: {path} does not exist"
    assert f.user == user, f"{node.name}: {path} belongs to {f.user}; expected the worker user {user}"


@control("IDR-PROXY-05", "Every read-only server of the inventory is in the proxy's /etc/hosts", "medium",
         "seed 000: check /etc/hosts on idr-proxy for a full list of internal servers")
@pytest.mark.hosts("proxy")
def test_hosts_lists_readonly_servers(node, host, inventory: Inventory) -> None:  # noqa: ANN001
    names = {n for line in hostfacts.output(node, "cat /etc/hosts").splitlines()
             if line.strip() and not line.lstrip().startswith("#") for n in line.split()[1:]}
    missing = [h.name for h in inventory.group("omeroreadonly") if h.name not in names]
    assert not missing, f"{node.name}: /etc/hosts lacks {missing}; operators list servers from it"


@control("IDR-PROXY-06", "The proxy's upstream names exactly the inventory's read-only servers", "high",
         PROXY_REF)
@pytest.mark.hosts("proxy")
def test_upstream_matches_inventory(node, inventory: Inventory) -> None:  # noqa: ANN001
    name = expect(node, "readonly_upstream")
    servers = nginx.upstream_servers(nginx.dump(node), name)
    assert servers is not None, f"{node.name}: no nginx upstream '{name}'"
    wanted = sorted(h.name for h in inventory.group("omeroreadonly"))
    stale, missing = sorted(set(servers) - set(wanted)), sorted(set(wanted) - set(servers))
    assert not stale and not missing, (f"{node.name}: upstream {name} has stale {stale} and lacks {missing}; "
                                       f"expected {wanted}")


@control("IDR-PROXY-07", "The proxy's access log records the cache status of every request", "medium",
         "seed 000: idr-proxy (custom caching configuration)")
@pytest.mark.hosts("proxy")
def test_access_log_has_cache_status(node) -> None:  # noqa: ANN001
    config = nginx.dump(node)
    formats = nginx.log_formats(config)
    log = expect(node, "proxy_access_log")
    used = [fmt for path, fmt in nginx.access_logs(config) if path == log]
    assert used, f"{node.name}: no access_log {log} in nginx -T"
    without = [fmt for fmt in used if "$upstream_cache_status" not in formats.get(fmt, "")]
    assert not without, f"{node.name}: {log} uses format(s) {without} without $upstream_cache_status"


@control("IDR-PROXY-08", "The public rsync daemon serves read-only modules", "high",
         "seed 000: external ports (rsync on idr-proxy)")
@pytest.mark.hosts("proxy")
def test_rsync_modules_read_only(node, host) -> None:  # noqa: ANN001
    if not hostfacts.path(node, "/etc/rsyncd.conf").exists:
        pytest.skip(f"{node.name}: no /etc/rsyncd.conf")
    module, writable = None, []
    global_read_only = True
    for raw in hostfacts.output(node, "cat /etc/rsyncd.conf").splitlines():
        line = raw.split("#", 1)[0].strip()
        if m := re.match(r"^\[(.+)\]$", line):
            module = m.group(1)
        elif m := re.match(r"^read only\s*=\s*(\S+)", line, re.IGNORECASE):
            ro = m.group(1).lower() in ("yes", "true", "1")
            if module is None:
                global_read_only = ro
            elif not ro:
                writable.append(module)
    assert global_read_only and not writable, f"{node.name}: writable rsync module(s) {writable or ['(global)']}"


@control("IDR-SSH-01", "SSH on the proxy accepts keys only, no passwords", "high",
         "seed 000: all administrative operations go through SSH into idr-proxy")
@pytest.mark.hosts("proxy")
def test_ssh_keys_only(node) -> None:  # noqa: ANN001
    settings = dict(line.split(" ", 1) for line in hostfacts.output(node, "sshd -T 2>/dev/null").splitlines()
                    if " " in line)
    bad = {k: settings.get(k) for k in ("passwordauthentication", "permitemptypasswords")
           if settings.get(k) != "no"}
    if settings.get("permitrootlogin") not in ("no", "prohibit-password", "without-password"):
        bad["permitrootlogin"] = settings.get("permitrootlogin")
    assert not bad, f"{node.name}: sshd allows passwords: {bad}"
