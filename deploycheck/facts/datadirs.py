"""What the IDR-DATA controls read on the servers holding data, as
questions: the file system each data directory lives on, whether the
OMERO user may write the binary repository, and what in it anyone may
write. All read-only."""

from __future__ import annotations

import shlex

from deploycheck.facts import hostfacts, omeroserver
from deploycheck.facts.question import command
from deploycheck.inventory.loader import Node
from deploycheck.inventory.variables import expect


def data_dirs(node: Node) -> list[str]:
    dirs = [expect(node, "omero_data_dir")] if node.has_role("omeroreadwrite") else []
    dirs += [expect(node, "pg_data_dir")] if node.has_role("database") else []
    return [str(d) for d in dirs if d]


def world_writable_command(data: str) -> str:
    return f"find {shlex.quote(data)} -xdev -perm -o+w ! -type l -print 2>/dev/null | head -n 5"


def _repository(node: Node) -> list[str]:
    data = expect(node, "omero_data_dir")
    return [data, f"{data}/Pixels"]


filesystems = command("data_filesystems", lambda node: [omeroserver.mount_command(d) for d in data_dirs(node)] or None,
                      lambda node, said: {d: s.out.strip() for d, s in zip(data_dirs(node), said, strict=True)})
"""The mount point each data directory lives on (empty when it is missing), by directory."""
repository_writable = command(
    "repository_writable",
    lambda node: [hostfacts.writable_command(expect(node, "omero_user"), p) for p in _repository(node)],
    lambda node, said: {p: s.rc == 0 for p, s in zip(_repository(node), said, strict=True)})
"""Whether the OMERO user may write the binary repository and its Pixels folder, by path."""
world_writable = command("world_writable", lambda node: world_writable_command(expect(node, "omero_data_dir")),
                         lambda node, said: said.out.split())
"""Up to five things under the binary repository that anyone may write."""
