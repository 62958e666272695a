"""What the backup controls read on the database and read-write servers,
as questions: the host's clock, the dump job, the newest dump, dumps
readable by others, the configuration backup's properties, the cron jobs
naming the binary repository, the newest file of its backup, and the
checksums of etc/grid/default.xml and its copy. All read-only."""

from __future__ import annotations

import re
import shlex
import time

from deploycheck.facts.question import Said, command
from deploycheck.inventory.loader import Node
from deploycheck.inventory.variables import expect

JOB_PLACES = "/etc/cron.daily/* /etc/cron.d/* /etc/crontab /var/spool/cron/crontabs/* /var/spool/cron/*"
NOW = "date +%s"


def uncommented(path: str) -> str:
    return f"sed '/^[[:space:]]*#/d' {shlex.quote(path)}"  # comments do not run


def newest_dump_command(folder: str) -> str:
    return f"ls -t {shlex.quote(folder)}/*.pg_dump 2>/dev/null | head -n 1 | xargs -r stat -c '%n|%Y|%a'"


def readable_dumps_command(folder: str) -> str:
    return f"find {shlex.quote(folder)} -type f -perm -o+r -print"


def properties_count_command(path: str) -> str:
    return f"grep -c '^omero\\.' {shlex.quote(path)}; true"


def jobs_naming_command(repo: str) -> str:
    whole = shlex.quote(re.escape(repo) + r"/?([^/A-Za-z0-9_.-]|$)")
    return f"grep -lE -- {whole} {JOB_PLACES} 2>/dev/null"


def newest_backup_command(folder: str) -> str:
    return (f"find {shlex.quote(folder)} -mindepth 1 -maxdepth 2 -printf '%T@\\n' 2>/dev/null | "
            "sort -n | tail -n 1; true")


def default_xml_paths(node: Node) -> tuple[str, str]:
    server = str(expect(node, "omero_server_dir")).rstrip("/")
    return f"{server}/etc/grid/default.xml", expect(node, "default_xml_backup")


def sums_command(live: str, copy: str) -> str:
    return f"sha256sum -- {shlex.quote(live)} {shlex.quote(copy)} 2>/dev/null; true"


def _newest_dump(node: Node, said: Said) -> tuple[str, int, int]:
    """(path, mtime, mode) of the newest dump, or fail saying none exists."""
    out = said.output(node)
    if not out.strip():
        raise AssertionError(f"{node.name}: no *.pg_dump in {expect(node, 'pg_dump_dir')}; expected daily dumps")
    path, mtime, mode = out.strip().split("|")
    return path, int(mtime), int(mode, 8)


def _sums(node: Node, said: Said) -> dict[str, str]:
    return {path: digest for digest, _, path in (line.partition("  ") for line in said.output(node).splitlines())}


now = command("now", lambda node: NOW, lambda node, said: int(said.output(node).strip() or time.time()))
"""The host's clock (ages are judged by the host's own time)."""
dump_job = command("dump_job", lambda node: uncommented(expect(node, "pg_dump_job")),
                   lambda node, said: said.output(node))
newest_dump = command("newest_dump", lambda node: newest_dump_command(expect(node, "pg_dump_dir")), _newest_dump)
readable_dumps = command("readable_dumps", lambda node: readable_dumps_command(expect(node, "pg_dump_dir")),
                         lambda node, said: said.out.split())
config_properties = command("config_properties",
                            lambda node: properties_count_command(expect(node, "config_backup")),
                            lambda node, said: int(said.output(node).strip() or 0))
jobs_naming_repository = command(
    "jobs_naming_repository", lambda node: jobs_naming_command(expect(node, "omero_data_dir").rstrip("/")),
    lambda node, said: said.out.split())
newest_binary_backup = command(
    "newest_binary_backup",
    lambda node: newest_backup_command(expect(node, "binary_backup_dir")) if expect(node, "binary_backup_dir")
    else None, lambda node, said: said.output(node).strip())
default_xml_sums = command(
    "default_xml_sums", lambda node: sums_command(*default_xml_paths(node)) if expect(node, "grid_default_xml_edited")
    else None, _sums)
