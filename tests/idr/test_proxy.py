"""Seed 000, IDR administration (external ports) and idr-proxy (cache-buster
port 9000, port 8009; its cache a separate volume; /etc/hosts lists the
internal servers): what idr-proxy exposes and how it is set up after a
deploy. It listens publicly only on SSH, HTTP, HTTPS, rsync and the OMERO
ports, keeps 9000 and 8009 on loopback, caches on its own volume owned by
the nginx worker, knows every read-only server, logs each request's cache
status and serves rsync read-only."""

from __future__ import annotations

import re
import shlex
from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control
from deploycheck.facts import hostfacts, nginx
from deploycheck.facts.listeners import listening_tcp
from deploycheck.inventory.variables import expect

if TYPE_CHECKING:
    from deploycheck.inventory.loader import Inventory, Node

pytestmark = pytest.mark.hosts("proxy")
READS = ("allowed_public_ports", "loopback_only_ports", "nginx_cache_dir", "readonly_upstream", "proxy_access_log",
         "readonly_web_servers")

REF = "seed 000: idr-proxy"


@control("IDR-PROXY-01", "The proxy listens publicly only on the allowed ports", "critical",
         "seed 000: IDR administration (external ports)", shell=True)
def test_public_listeners_are_allowed(node: Node) -> None:
    """The proxy is the only host facing the internet; any other public
    listener is an unreviewed way in."""
    allowed = set(expect(node, "allowed_public_ports"))
    public = {sock.port for sock in listening_tcp(node) if not sock.loopback}
    extra = sorted(public - allowed)
    assert not extra, f"{node.name}: ports {extra} listen on a non-loopback address; allowed {sorted(allowed)}"


@control("IDR-PROXY-02", "The cache-buster and long-query ports listen on loopback only", "critical",
         "seed 000: idr-proxy (cache-buster port 9000, port 8009)", shell=True)
def test_internal_ports_loopback_only(node: Node) -> None:
    """A public cache-buster lets anyone force expensive refetches."""
    ports = [p for p in expect(node, "loopback_only_ports") if p]
    listeners = listening_tcp(node)
    exposed = sorted({f"{s.address}:{s.port}" for s in listeners if s.port in ports and not s.loopback})
    absent = sorted(p for p in ports if not any(s.port == p for s in listeners))
    problems = [f"{', '.join(exposed)} listen beyond loopback"] if exposed else []
    problems += [f"ports {absent} do not listen at all"] if absent else []
    assert not problems, f"{node.name}: " + "; ".join(problems) + f"; expected {ports} on loopback only"


@control("IDR-PROXY-03", "The proxy cache directory is its own volume", "medium",
         "seed 000: Backups (idr-proxy:/var/cache/nginx, a separate volume)", shell=True)
def test_cache_dir_is_volume(node: Node) -> None:
    """A full cache must not fill the proxy's root file system, and the
    docs back it up (or leave it out) as a volume of its own."""
    path = expect(node, "nginx_cache_dir")
    assert hostfacts.path(node, path).mount_point, f"{node.name}: {path} is not a mount point; expected its own volume"


@control("IDR-PROXY-04", "The proxy cache directory belongs to the nginx worker user", "high", REF, shell=True)
def test_cache_dir_owner(node: Node) -> None:
    """A worker that cannot write the cache serves every request from the
    backends, silently."""
    path = expect(node, "nginx_cache_dir")
    user = nginx.worker_user(nginx.dump(node))
    f = hostfacts.path(node, path)
    assert f.is_directory, f"{node.name}: {path} does not exist"
    assert f.user == user, f"{node.name}: {path} belongs to {f.user}; expected the worker user {user}"


@control("IDR-PROXY-05", "Every read-only server of the inventory is in the proxy's /etc/hosts", "medium",
         "seed 000: check /etc/hosts on idr-proxy for a full list of internal servers", shell=True)
def test_hosts_lists_readonly_servers(node: Node, inventory: Inventory) -> None:
    """Operators list the internal servers from the proxy's /etc/hosts; a
    server missing there is forgotten in maintenance."""
    names = {n for line in hostfacts.hosts_file(node).splitlines()
             if line.strip() and not line.lstrip().startswith("#") for n in line.split()[1:]}
    missing = [h.name for h in inventory.group("omeroreadonly") if h.name not in names]
    assert not missing, f"{node.name}: /etc/hosts lacks {missing}; operators list servers from it"


def _down_servers(config: str, name: str) -> set[str]:
    """Servers of ``upstream NAME`` marked ``down`` (as upstream_servers names them)."""
    block = re.search(rf"upstream\s+{re.escape(name)}\s*\{{(.*?)\}}", config, re.DOTALL)
    found = re.findall(r"^\s*server\s+([^\s;]+)[^;]*\sdown\s*;", block.group(1) if block else "", re.MULTILINE)
    return {s.rsplit(":", 1)[0] if s.count(":") == 1 else s for s in found}


@control("IDR-PROXY-06", "The proxy's upstream names exactly the inventory's read-only servers", "high", REF,
         shell=True)
def test_upstream_matches_inventory(node: Node, inventory: Inventory) -> None:
    """A stale server in the upstream gets a share of the visitors; a
    missing one carries no load. Servers may be named by host name or by
    address (IDR writes addresses); where the deployment reserves the first
    N read-only servers for the web (IDR's idr_backend_reserved_offset),
    exactly that many of them are in it. A server marked ``down`` serves
    nothing and does not count."""
    name = expect(node, "readonly_upstream")
    config = nginx.dump(node)
    servers = nginx.upstream_servers(config, name)
    assert servers is not None, f"{node.name}: no nginx upstream '{name}'"
    servers = [s for s in servers if s not in _down_servers(config, name)]  # marked down: carries no load
    readonly = inventory.group("omeroreadonly")
    known = {h.name: {h.name, h.address, *hostfacts.addresses(h)} for h in readonly}
    stale = sorted(s for s in servers if not any(s in names for names in known.values()))
    present = sorted(h for h, names in known.items() if names & set(servers))
    reserved = expect(node, "readonly_web_servers")
    want = len(readonly) if reserved is None else min(int(reserved), len(readonly))
    assert not stale, f"{node.name}: upstream {name} has {stale}, which are no read-only server of the inventory"
    assert len(present) == want, (f"{node.name}: upstream {name} serves from {present}; expected "
                                  + (f"all of {sorted(known)}" if reserved is None else
                                     f"{want} of {sorted(known)} (readonly_web_servers)"))


@control("IDR-PROXY-07", "The proxy's access log records the cache status of every request", "medium",
         "seed 000: idr-proxy (custom caching configuration)", shell=True)
def test_access_log_has_cache_status(node: Node) -> None:
    """Without $upstream_cache_status in the log nobody can tell whether the
    cache works, and the cache controls cannot either."""
    config = nginx.dump(node)
    formats = nginx.log_formats(config)
    log = expect(node, "proxy_access_log")
    used = [fmt for path, fmt in nginx.access_logs(config) if path == log]
    assert used, f"{node.name}: no access_log {log} in nginx -T"
    without = [fmt for fmt in used if "$upstream_cache_status" not in formats.get(fmt, "")]
    assert not without, f"{node.name}: {log} uses format(s) {without} without $upstream_cache_status"


def _rsync_daemon_config(node: Node) -> str:
    """The config file of the running rsync daemon (its --config argument), else rsync's default."""
    pids = " ".join(str(pid) for sock in listening_tcp(node) if sock.port == 873 for name, pid in sock.processes
                    if name == "rsync")
    if not pids:
        return "/etc/rsyncd.conf"
    args = hostfacts.output(node, f"for p in {pids}; do tr '\\0' '\\n' < /proc/$p/cmdline; done; true").split()
    for i, arg in enumerate(args):
        if arg.startswith("--config="):
            return arg.split("=", 1)[1]
        if arg == "--config" and i + 1 < len(args):
            return args[i + 1]
    return "/etc/rsyncd.conf"


@control("IDR-PROXY-08", "The public rsync daemon serves read-only modules", "high",
         "seed 000: external ports (rsync on idr-proxy)", shell=True)
def test_rsync_modules_read_only(node: Node) -> None:
    """rsync is open to the world for downloads; a writable module lets
    anyone upload to the proxy. Judges the file the running daemon reads
    (its --config), not only the default /etc/rsyncd.conf."""
    config = _rsync_daemon_config(node)
    if not hostfacts.path(node, config).exists:
        pytest.skip(f"{node.name}: no {config}")
    module, writable = None, []
    global_read_only = True
    for raw in hostfacts.output(node, f"cat {shlex.quote(config)}").splitlines():
        line = raw.split("#", 1)[0].strip()
        if m := re.match(r"^\[(.+)\]$", line):
            module = m.group(1)
        elif m := re.match(r"^read only\s*=\s*(\S+)", line, re.IGNORECASE):
            ro = m.group(1).lower() in ("yes", "true", "1")
            if module is None:
                global_read_only = ro
            elif not ro:
                writable.append(module)
    assert global_read_only and not writable, \
        f"{node.name}: writable rsync module(s) in {config}: {writable or ['(global)']}"
