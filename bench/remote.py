"""The IDR reference stack as operators reach production: every host over
SSH, the proxy through a relay that adds latency, the inner hosts through the
proxy as a jump host (two hops), and the public site through relays too.

``remote_idr(delay_ms)`` sets it up for one measurement and takes it down:
a key made for the run is added to root's authorized_keys on every host and
removed afterwards; host keys are pinned in a known_hosts file; all of it
lives in a private temporary folder. Loopback only: the relays listen on
127.0.0.1 and forward to the ports the stack publishes there.
"""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from bench.relay import Relay

ROOT = Path(__file__).resolve().parent.parent
PROXY = "idr-proxy"
INNER = ("idr-omeroreadonly-1", "idr-omeroreadwrite", "idr-database")
PUBLISHED = {"ssh": 18022, "http": 18080, "https": 18443}  # fixtures/idr/docker-compose.yml
JUMP_ALIAS = "idr-proxy-jump"
MARK = "deploycheck-bench"


@dataclass(frozen=True)
class Remote:
    inventory: Path
    relays: dict[str, Relay]
    ssh_config: Path
    ssh_hosts: tuple[str, ...]  # inventory names of the hosts reached over SSH


def _exec(container: str, script: str, stdin: str = "") -> str:
    done = subprocess.run(["docker", "exec", "-i", container, "sh", "-c", script], input=stdin,
                          capture_output=True, text=True, timeout=30, check=True)
    return done.stdout


def accepted_logins(containers: tuple[str, ...]) -> dict[str, int]:
    """Logins each host's sshd has accepted so far, from its journal: the
    hosts' own count of what a run cost them."""
    counts = {}
    for container in containers:
        out = _exec(container, "journalctl -o cat _COMM=sshd | grep -c 'Accepted publickey'; true")
        counts[container] = int(out.strip() or 0)
    return counts


def _authorize(containers: tuple[str, ...], public_key: str) -> None:
    for container in containers:
        _exec(container, "mkdir -p /root/.ssh && chmod 700 /root/.ssh && cat >> /root/.ssh/authorized_keys && "
                         "chmod 600 /root/.ssh/authorized_keys", stdin=public_key)


def _unauthorize(containers: tuple[str, ...]) -> None:
    for container in containers:
        with contextlib.suppress(subprocess.SubprocessError):
            _exec(container, f"sed -i '/ {MARK}$/d' /root/.ssh/authorized_keys 2>/dev/null; true")


def _ssh_config(folder: Path, key: Path, relay_port: int, inner: tuple[str, ...]) -> Path:
    """The proxy by its relay, every other host through it (ProxyJump); each
    host's key pinned under its own name (HostKeyAlias)."""
    known = folder / "known_hosts"
    common = (f"  User root\n  IdentityFile {key}\n  IdentitiesOnly yes\n  UserKnownHostsFile {known}\n"
              "  StrictHostKeyChecking yes\n  BatchMode yes\n")
    text = (f"Host {JUMP_ALIAS}\n  HostName 127.0.0.1\n  Port {relay_port}\n  HostKeyAlias {PROXY}\n{common}"
            + "".join(f"Host {name}\n  ProxyJump {JUMP_ALIAS}\n  HostKeyAlias {name}\n{common}" for name in inner))
    config = folder / "ssh_config"
    config.write_text(text)
    return config


def _known_hosts(folder: Path, hosts: tuple[str, ...]) -> None:
    lines = []
    for container in hosts:
        kind, key = _exec(container, "cat /etc/ssh/ssh_host_ed25519_key.pub").split()[:2]
        lines.append(f"{container} {kind} {key}")
    (folder / "known_hosts").write_text("\n".join(lines) + "\n")


def _inventory(folder: Path, config: Path, relays: dict[str, Relay], readonly: tuple[str, ...]) -> Path:
    """The reference inventory with every host reached over SSH, its site through the relays."""
    data = yaml.safe_load((ROOT / "inventories" / "reference-idr.yml").read_text())
    data["all"]["vars"].update({
        "ansible_connection": "ssh",
        "ansible_ssh_common_args": f"-F {config}",
        "public_url": f"http://127.0.0.1:{relays['http'].port}",
        "public_https_url": f"https://localhost:{relays['https'].port}",
        "tls_ca_file": str(ROOT / "fixtures" / "idr" / "proxy" / "tls" / "ca.crt"),
    })
    children = data["all"]["children"]
    # ansible_host is the SSH alias only the controller knows; the outside world knows the proxy by name
    children["proxy"]["hosts"] = {PROXY: {"ansible_host": JUMP_ALIAS, "outside_address": PROXY}}
    children["omeroreadonly"]["hosts"] = {name: None for name in readonly}
    children["outside"]["hosts"] = {"idr-outside": {"ansible_connection": "docker"}}
    path = folder / "inventory.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@contextlib.contextmanager
def remote_idr(delay_ms: float, readonly: tuple[str, ...] = ("idr-omeroreadonly-1",)) -> Iterator[Remote]:
    """The stack behind relays of ``delay_ms`` each way, for as long as the block runs."""
    hosts = (PROXY, *INNER, *(r for r in readonly if r not in INNER))
    with tempfile.TemporaryDirectory(prefix="deploycheck-bench-ssh-") as tmp:
        folder = Path(tmp)
        key = folder / "id_ed25519"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", MARK, "-f", str(key)],
                       check=True, timeout=30)
        relays = {name: Relay("127.0.0.1", port, delay_ms=delay_ms, handshake=True)
                  for name, port in PUBLISHED.items()}
        try:
            for relay in relays.values():
                relay.start()
            _authorize(hosts, key.with_suffix(".pub").read_text())
            _known_hosts(folder, hosts)
            config = _ssh_config(folder, key, relays["ssh"].port, hosts[1:])
            yield Remote(_inventory(folder, config, relays, readonly), relays, config, hosts)
        finally:
            _unauthorize(hosts)
            for relay in relays.values():
                relay.stop()
