"""Reading a host's effective nginx configuration from ``nginx -T``."""

from __future__ import annotations

import re

from deploycheck.facts import hostfacts
from deploycheck.inventory.loader import Node

COMMAND = "nginx -T 2>/dev/null"


def dump(node: Node) -> str:
    """The full configuration nginx would load (``nginx -T``), without comments."""
    text = hostfacts.output(node, COMMAND)
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def worker_user(config: str) -> str:
    match = re.search(r"^\s*user\s+([^\s;]+)", config, re.MULTILINE)
    return match.group(1) if match else "nobody"


def upstream_servers(config: str, name: str) -> list[str] | None:
    """Host names of ``upstream NAME { server HOST[:PORT] ...; }``, or None when absent."""
    match = re.search(rf"upstream\s+{re.escape(name)}\s*\{{(.*?)\}}", config, re.DOTALL)
    if match is None:
        return None
    return [s.rsplit(":", 1)[0] if s.count(":") == 1 else s
            for s in re.findall(r"^\s*server\s+([^\s;]+)", match.group(1), re.MULTILINE)]


def log_formats(config: str) -> dict[str, str]:
    """log_format name -> its (joined) format string."""
    formats: dict[str, str] = {}
    for match in re.finditer(r"log_format\s+(\S+)\s+(.*?);", config, re.DOTALL):
        formats[match.group(1)] = " ".join(re.findall(r"'([^']*)'", match.group(2))) or match.group(2)
    return formats


def access_logs(config: str) -> list[tuple[str, str]]:
    """(path, format name) of every access_log directive; format 'combined' when unnamed."""
    found = []
    for match in re.finditer(r"^\s*access_log\s+([^\s;]+)(?:\s+([^\s;]+))?[^;]*;", config, re.MULTILINE):
        found.append((match.group(1), match.group(2) or "combined"))
    return found
