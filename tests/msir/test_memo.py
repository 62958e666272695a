"""Seed 003, Regenerating memo files (memofile-regen-status.sh; low percentages
of Fail can be accepted; Requirements & caveats): where memo files are
regenerated, the last run completed, failed files stay within the accepted
share, and the tools the regeneration needs are installed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control
from deploycheck.facts import hostfacts
from deploycheck.facts.memoregen import parse_status, status_command
from deploycheck.inventory.variables import expect

if TYPE_CHECKING:
    from deploycheck.facts.memoregen import MemoStatus
    from deploycheck.inventory.loader import Node

pytestmark = pytest.mark.hosts("omeroreadwrite", "omeroreadonly")
READS = ("memo_regen_dir", "memo_fail_max_pct")

MEMO_TOOLS = ("parallel", "time", "bc")


def _memo_status(node: Node) -> MemoStatus:
    folder = expect(node, "memo_regen_dir")
    if not folder:
        pytest.skip(f"{node.name}: inventory sets no memo_regen_dir")
    try:
        status = parse_status(hostfacts.output(node, status_command(folder)))
    except ValueError as exc:
        raise AssertionError(f"{node.name}: {exc}") from exc
    assert status is not None, f"{node.name}: no rslt.* folder in {folder}"
    return status


@control("MSIR-MEMO-01", "The last memo-file regeneration ran to completion", "medium",
         "seed 003: Regenerating memo files (memofile-regen-status.sh)", shell=True)
def test_memo_regen_complete(node: Node) -> None:
    """Images whose memo file was not regenerated before an upgrade are slow
    to open, or fail, for the first visitors after it."""
    status = _memo_status(node)
    assert status.complete and status.processed >= status.total, f"{node.name}: {status.line()}"


@control("MSIR-MEMO-02", "Failed memo files stay within the accepted share", "medium",
         "seed 003: Regenerating memo files (low percentages of Fail can be accepted)", shell=True)
def test_memo_regen_failures(node: Node) -> None:
    """A few failures are expected; many point at broken files or a broken
    regeneration."""
    status = _memo_status(node)
    limit = float(expect(node, "memo_fail_max_pct"))
    assert status.fail_pct <= limit, f"{node.name}: {status.line()}; expected at most {limit:g} % Fail"


@control("MSIR-MEMO-03", "The memo-file regeneration's tools (parallel, time, bc) are installed where it runs",
         "medium", "seed 003: Requirements & caveats", shell=True)
def test_memo_regen_tools(node: Node) -> None:
    """regen-memo-files.sh needs GNU parallel, time and bc; without them a
    regeneration started before an upgrade stops at once. Looked up along
    PATH, not with the shell's own ``time`` keyword."""
    if not expect(node, "memo_regen_dir"):
        pytest.skip(f"{node.name}: inventory sets no memo_regen_dir (memo files are not regenerated here)")
    script = ("for t in " + " ".join(MEMO_TOOLS) + "; do f=missing; IFS=:; for d in $PATH; do "
              "if [ -x \"$d/$t\" ]; then f=\"$d/$t\"; break; fi; done; unset IFS; echo \"$t $f\"; done")
    found = dict(line.split(" ", 1) for line in hostfacts.output(node, script).splitlines() if " " in line)
    missing = [t for t in MEMO_TOOLS if found.get(t, "missing") == "missing"]
    assert not missing, f"{node.name}: memo-file regeneration needs {', '.join(missing)}, not installed"
