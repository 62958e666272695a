"""The shape of every control file (tests/<system>/test_<family>.py), read
with ``ast``, nothing imported: it opens with a docstring, names its host
group in a module-level ``pytestmark`` and the inventory variables it reads
in ``READS`` (declared ones, exactly those its ``expect(...)`` calls name),
and each of its test functions is a control with a docstring."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from deploycheck.inventory.variables import VARIABLES

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "tests").glob("*/test_*.py"))


def _module_assign(tree: ast.Module, name: str) -> ast.Assign | None:
    return next((node for node in tree.body if isinstance(node, ast.Assign)
                 and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)), None)


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else ""


def _expect_names(tree: ast.Module) -> set[str]:
    """The variable names passed as literals to ``expect(host, "name")`` anywhere in the file."""
    return {call.args[1].value for call in ast.walk(tree)
            if isinstance(call, ast.Call) and _dotted(call.func).rsplit(".", 1)[-1] == "expect"
            and len(call.args) >= 2 and isinstance(call.args[1], ast.Constant) and isinstance(call.args[1].value, str)}


def _is_control(fn: ast.FunctionDef) -> bool:
    return any(isinstance(d, ast.Call) and _dotted(d.func).rsplit(".", 1)[-1] == "control" for d in fn.decorator_list)


@pytest.fixture(params=FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def tree(request: pytest.FixtureRequest) -> ast.Module:
    path: Path = request.param
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_there_are_control_files() -> None:
    assert len(FILES) > 10, f"only {len(FILES)} control files under tests/"


def test_opens_with_a_docstring(tree: ast.Module) -> None:
    assert (ast.get_docstring(tree) or "").strip(), "no module docstring (doc reference and what the family promises)"


def test_module_pytestmark_names_hosts(tree: ast.Module) -> None:
    assign = _module_assign(tree, "pytestmark")
    assert assign is not None, "no module-level pytestmark"
    assert isinstance(assign.value, ast.Call) and _dotted(assign.value.func) == "pytest.mark.hosts", \
        f"pytestmark is not pytest.mark.hosts(...): {ast.unparse(assign.value)}"
    groups = assign.value.args
    assert groups and all(isinstance(g, ast.Constant) and isinstance(g.value, str) for g in groups), \
        f"pytestmark names no host group as literals: {ast.unparse(assign.value)}"


def test_reads_declares_what_expect_reads(tree: ast.Module) -> None:
    assign = _module_assign(tree, "READS")
    assert assign is not None, "no module-level READS"
    assert isinstance(assign.value, ast.Tuple), f"READS is not a tuple: {ast.unparse(assign.value)}"
    reads = [e.value for e in assign.value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    assert len(reads) == len(assign.value.elts), f"READS holds more than string literals: {ast.unparse(assign.value)}"
    assert len(reads) == len(set(reads)), f"READS names a variable twice: {reads}"
    undeclared = sorted(set(reads) - set(VARIABLES))
    assert not undeclared, f"READS names undeclared variables {undeclared} (deploycheck/inventory/variables.py)"
    used = _expect_names(tree)
    assert set(reads) == used, (f"READS lacks {sorted(used - set(reads))} and names unread "
                                f"{sorted(set(reads) - used)}")


def test_header_comes_before_the_controls(tree: ast.Module) -> None:
    first_def = next((n.lineno for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)), None)
    header = [_module_assign(tree, "pytestmark"), _module_assign(tree, "READS")]
    assert all(a is not None for a in header), "pytestmark or READS missing"
    assert first_def is None or all(a.lineno < first_def for a in header if a is not None), \
        "pytestmark and READS must come before the first function"


def test_every_test_function_is_a_documented_control(tree: ast.Module) -> None:
    tests = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test")]
    assert tests, "no test function"
    not_controls = [fn.name for fn in tests if not _is_control(fn)]
    assert not not_controls, f"test functions without @control: {not_controls}"
    undocumented = [fn.name for fn in tests if not (ast.get_docstring(fn) or "").strip()]
    assert not undocumented, f"controls without a docstring saying why they matter: {undocumented}"
