"""Hostile values in every inventory variable that can reach a command run
nothing: each string and list variable deploycheck declares is set to a
value carrying command substitutions, backticks, a ';' chain, quotes, a
newline and a leading '-' (paths start with /tmp/ instead: a path that is
not absolute is refused at load, selftests/unit/test_bad_input.py), on both
reference stacks; afterwards no marker file exists on any host nor on the
controller."""

from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import reference
from deploycheck.inventory.variables import (
    INSIDE_VARIABLES,
    PATH_VARIABLES,
    UNIT_VARIABLES,
    URL_PATH_VARIABLES,
    VARIABLES,
)

# A command the operator writes on purpose (OMERO-BACKUP-09, disruptive runs only): a template by declaration.
COMMANDS_BY_DECLARATION = {"binary_restore_command"}
# Checked at load time (hostile values stop the run with exit 2: selftests/unit/test_bad_input.py,
# test_hostile_values.py).
VALIDATED = set(UNIT_VARIABLES) | set(URL_PATH_VARIABLES) | set(INSIDE_VARIABLES)
MARKER = "/tmp/dc-pwned-"
CONTAINERS = ["idr-proxy", "idr-omeroreadonly-1", "idr-omeroreadwrite", "idr-database", "idr-outside"]


def hostile(name: str, path: bool) -> str:
    mark = f"{MARKER}{name}"
    text = f"x$(touch {mark}-a)`touch {mark}-b`;touch {mark}-c;'\"\ntouch {mark}-d #"
    return f"/tmp/{text}" if path else f"-{text}"


def hostile_vars() -> dict[str, object]:
    found: dict[str, object] = {}
    for name, var in VARIABLES.items():
        if name in COMMANDS_BY_DECLARATION | VALIDATED or name.endswith("_file") or var.required_for:
            continue
        if isinstance(var.default, str) or var.default is None and name.endswith(("_dir", "_path", "_sample")):
            found[name] = hostile(name, path=name in PATH_VARIABLES or str(var.default or "/").startswith("/"))
        elif isinstance(var.default, list) and all(isinstance(v, str) for v in var.default):
            found[name] = [hostile(name, path=name in PATH_VARIABLES)]
    return found


def _plant(group: dict, values: dict[str, object]) -> None:
    """On every host itself, so that no group or host setting of the reference inventory wins over them."""
    for name, host in list((group.get("hosts") or {}).items()):
        group["hosts"][name] = {**(host or {}), **values}
    for child in (group.get("children") or {}).values():
        _plant(child or {}, values)


def _markers_on(container: str) -> list[str]:
    done = subprocess.run(["docker", "exec", container, "sh", "-c", f"ls -d {MARKER}* 2>/dev/null; true"],
                          capture_output=True, text=True, timeout=30)
    return done.stdout.split()


def test_hostile_values_run_nothing(deploycheck) -> None:
    planted = hostile_vars()
    assert len(planted) >= 25, sorted(planted)
    for name in ("idr", "vidjil"):
        inv = reference(name)
        _plant(inv["all"], planted)
        run = deploycheck(inv, "-n", "2", timeout=600)
        assert run.rc == 1, run.output[-1500:]  # values of the right kind: the run goes on, and fails
        ran = [c for c in run.controls() if c["outcome"] != "skipped"]
        assert len(ran) >= 15, f"only {len(ran)} controls ran with the planted values: {run.output[-800:]}"
    found = [f"{c}:{m}" for c in CONTAINERS for m in _markers_on(c)] + [str(p) for p in Path("/tmp").glob("dc-pwned-*")]
    assert not found, f"inventory values ran as commands: {found}"
