"""Seed 002, Managing OMERO.server log files and OMERO.server log file
location: the servers' logs roll at 512 MB (OMERO's logback rolls them at
500 MB into .1 to .9); rotated files may be compressed or deleted; the log
folder is OMERO_LOGS of etc/grid/default.xml and may be moved to other
storage."""

from __future__ import annotations

import pytest

from deploycheck.control import control
from deploycheck.facts import hostfacts, omeroserver
from deploycheck.inventory.loader import Node
from deploycheck.inventory.variables import expect

pytestmark = pytest.mark.hosts("omeroreadonly", "omeroreadwrite")
READS = ("omero_server_dir", "omero_logs_mount")
REF = "seed 002: Managing OMERO.server log files"
LIMIT = 512 * 1024 * 1024
KEPT = 9  # logback's maxIndex: more numbered files of one log are not OMERO's rotation


@control("OMERO-LOG-01", "OMERO.server's logs rotate: no live log past 512 MB, rotated files as OMERO keeps "
         "them, the log folder where the deployment says", "medium", REF, shell=True)
def test_logs_rotate(node: Node) -> None:
    """A log that no longer rotates fills the disk the server writes to; a
    log folder moved off the storage the deployment planned for it fills
    another one."""
    folder = omeroserver.log_dir(node)
    if folder is None:
        pytest.skip(f"{node.name}: no {expect(node, 'omero_server_dir')}/etc/grid/default.xml; "
                    "not an OMERO.server host (set omero_server_dir)")
    files = omeroserver.log_files(node, folder)
    assert files is not None, f"{node.name}: the log folder {folder} (OMERO_LOGS) is missing"
    live = [f for f in files if f.rotated is None]
    assert any(f.name.endswith(".log") for f in live), f"{node.name}: {folder} holds no server log (*.log)"
    big = [f"{f.name} is {f.size / 2**20:.0f} MB" for f in live if f.size > LIMIT]
    numbered: dict[str, int] = {}
    for f in files:
        if (m := f.rotated) is not None and not m["gz"]:
            numbered[m["base"]] = numbered.get(m["base"], 0) + 1
    piled = [f"{base} has {n} uncompressed rotated files" for base, n in sorted(numbered.items()) if n > KEPT]
    assert not big and not piled, (f"{node.name}: logs in {folder} are not rotated as OMERO rotates them "
                                   "(512 MB, .1 to .9): " + "; ".join(big + piled))
    mount = expect(node, "omero_logs_mount")
    if mount:
        found = hostfacts.output(node, omeroserver.mount_command(folder)).strip()
        assert found == str(mount).rstrip("/") or (found == "/" and mount == "/"), \
            f"{node.name}: the log folder {folder} is on {found or '?'}, not on {mount} as the deployment says"
