"""``--wait-ready SECONDS``: right after a deploy, poll the inventory's hosts
and endpoints until they answer or the deadline passes, then run."""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable

import requests
from urllib3.exceptions import InsecureRequestWarning

from deploycheck.inventory.loader import Inventory
from deploycheck.inventory.urlpath import join
from deploycheck.inventory.variables import expect
from deploycheck.report import printable
from deploycheck.transport import remote

POLL_S = 1.0
PROBE_TIMEOUT_S = 10.0  # the most one host's probe may take


def endpoints(inventory: Inventory) -> list[str]:
    """URLs that must answer below 500: each host's public_url/vidjil_url and its ready_urls."""
    found: list[str] = []
    for host in inventory.hosts.values():
        for name in ("public_url", "vidjil_url"):
            if name in host.vars and expect(host, name) not in found:
                found.append(str(expect(host, name)))
        for url in expect(host, "ready_urls"):
            full = url if "://" in url and not url.startswith("/") else join(str(expect(host, "public_url")), url)
            if full not in found:
                found.append(full)
    return found


def _answers(url: str) -> bool:
    """Any answer below 500 counts (the certificate is the TLS controls' business)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureRequestWarning)
        try:
            # the status is all that counts: the body is never read (a site cannot make it large)
            with requests.get(url, timeout=5, allow_redirects=False, verify=False, stream=True) as answer:
                return answer.status_code < 500
        except requests.RequestException:
            return False


def wait(inventory: Inventory, seconds: float, say: Callable[[str], None] | None = None) -> bool:
    """True once every remote host runs a command and every endpoint answers; bounded by ``seconds``."""
    say = say or (lambda line: print(line, file=sys.stderr, flush=True))
    targets = [h for h in inventory.hosts.values() if h.vars.get("ansible_connection", "ssh") != "local"]
    urls = endpoints(inventory)
    pending_hosts, pending_urls = list(targets), list(urls)
    end = time.monotonic() + seconds
    last = ""
    while True:
        # each probe is bounded too, so a host whose login hangs cannot stretch the deadline much
        pending_hosts = [h for h in pending_hosts
                         if remote.probe(h, timeout=max(1.0, min(PROBE_TIMEOUT_S, end - time.monotonic()))) is not None]
        pending_urls = [u for u in pending_urls if not _answers(u)]
        left = end - time.monotonic()
        line = (f"[wait-ready] {len(targets) - len(pending_hosts)}/{len(targets)} hosts and "
                f"{len(urls) - len(pending_urls)}/{len(urls)} endpoints answer")
        if not pending_hosts and not pending_urls:
            say(line + " - ready")
            return True
        if left <= 0:
            names = [printable.text(h.name) for h in pending_hosts] + [printable.text(u) for u in pending_urls]
            say(line + f" - deadline passed, still waiting for {', '.join(names)}; running anyway")
            return False
        if line != last:
            say(line + f" ({left:.0f} s left)")
            last = line
        time.sleep(min(POLL_S, max(left, 0)))
