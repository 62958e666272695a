"""junit.xml as CI test tabs show it: a control's test case is named
``<CONTROL-ID>[<host>]`` (e.g. ``IDR-LONGQ-01[idr-proxy]``) with classname
``deploycheck.<profile>`` (``deploycheck.idr``), so Jenkins, GitLab and GitHub
reporters list and group controls rather than Python function names.

pytest's own junitxml plugin writes the file: to ``--junitxml=PATH`` when given,
else to ``<reports-dir>/junit.xml``, which the deploycheck plugin sets as that
path. Either way, :func:`prepare` puts a new empty file of the user's alone
(0600) at that path just before pytest writes it, so pytest's write follows no
symlink planted there, and :func:`rename_cases` then rewrites the file (0600,
renamed over it). Test cases that are not controls keep pytest's names;
``file``/``line`` and everything else stay as pytest wrote them.
"""

from __future__ import annotations

import contextlib
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from deploycheck.report.files import write_atomic


def written_path(config: pytest.Config) -> Path | None:
    """The junit.xml pytest's junitxml plugin writes in this session, or None
    when that plugin is off (``-p no:junitxml``) or no path is set."""
    xmlpath = getattr(config.option, "xmlpath", None)
    if not xmlpath or not config.pluginmanager.has_plugin("junitxml"):
        return None
    # Resolved as pytest resolves it, so both name the same file.
    return Path(os.path.normpath(os.path.abspath(os.path.expanduser(os.path.expandvars(xmlpath)))))


def prepare(path: Path) -> None:
    """A new empty 0600 file at ``path`` for pytest's junitxml to write into
    (it opens the path for writing, which would follow a symlink and keep a
    file's mode). A folder not there yet is pytest's to make; a path we may not
    replace is left to pytest, as without deploycheck."""
    if path.parent.is_dir():
        with contextlib.suppress(OSError):
            write_atomic(path, b"")


def pytest_address(nodeid: str, prefix: str | None = None) -> tuple[str, str] | None:
    """(classname, name) pytest's junitxml gives a node id: the dotted file path
    without ``.py`` plus any class names; the function name with its parameters.
    None for an id without ``::`` (never a control)."""
    path, sep, tail = nodeid.partition("::")
    if not sep:
        return None
    names, bracket, params = tail.partition("[")
    parts = [re.sub(r"\.py$", "", path.replace("/", ".")), *names.split("::")]
    if prefix:
        parts.insert(0, prefix)
    return ".".join(parts[:-1]), parts[-1] + bracket + params


def case_name(control_id: str, host: str, nodeid: str) -> str:
    """``ID[host]``; a control not run on a host (host ``-``) keeps its
    parametrization id (``ID[no-hosts]``), or is plain ``ID`` without one."""
    label = host if host and host != "-" else nodeid.partition("::")[2].partition("[")[2].removesuffix("]")
    return f"{control_id}[{label}]" if label else control_id


def case_classname(control_id: str, prefix: str | None = None) -> str:
    """``deploycheck.<profile>``: the profile is the id's first part, lower case."""
    name = f"deploycheck.{control_id.split('-', 1)[0].lower()}"
    return f"{prefix}.{name}" if prefix else name


def _strip_internal_properties(case: ET.Element) -> None:
    """Drop the per-control bookkeeping deploycheck passes between processes as
    user properties: the common schema has no ``<properties>`` in a test case."""
    for props in case.findall("properties"):
        for prop in props.findall("property"):
            if prop.get("name", "").startswith("deploycheck"):
                props.remove(prop)
        if not len(props):
            case.remove(props)


def rename_cases(path: Path, controls: dict[str, tuple[str, str]], prefix: str | None = None) -> int:
    """Rename the test cases of ``controls`` (node id -> (control id, host)) in
    the junit.xml at ``path`` and write it back private; returns how many
    ``<testcase>`` elements changed.
    ``prefix`` is pytest's ``--junit-prefix``, kept in front of the classname."""
    wanted: dict[tuple[str, str], tuple[str, str]] = {}
    for nodeid, (control_id, host) in controls.items():
        address = pytest_address(nodeid, prefix)
        if address is not None:
            wanted[address] = (case_classname(control_id, prefix), case_name(control_id, host, nodeid))
    tree = ET.parse(path)
    renamed = 0
    for case in tree.iter("testcase"):
        _strip_internal_properties(case)
        new = wanted.get((case.get("classname", ""), case.get("name", "")))
        if new is not None:
            case.set("classname", new[0])
            case.set("name", new[1])
            renamed += 1
    # always written anew: 0600 also for a --junitxml path, and renamed over it whole
    write_atomic(path, ET.tostring(tree.getroot(), encoding="utf-8", xml_declaration=True))
    return renamed
