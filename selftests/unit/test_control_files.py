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


def _helpers(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    return {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}


def _asked(fn: ast.FunctionDef, helpers: dict[str, ast.FunctionDef], seen: set[str]) -> set[str]:
    """The questions ``fn`` asks (``ask(q, node)``, ``ask_together(node, [q, ...])``), by dotted name,
    with those of the file's own functions it calls; a question named otherwise fails the check."""
    found: set[str] = set()
    for call in (n for n in ast.walk(fn) if isinstance(n, ast.Call)):
        name = _dotted(call.func).rsplit(".", 1)[-1]
        if name == "ask":
            asked = call.args[:1]
        elif name == "ask_together":
            asked = call.args[1].elts if len(call.args) > 1 and isinstance(call.args[1], ast.List | ast.Tuple) else [
                call]
        else:
            asked = []
            if isinstance(call.func, ast.Name) and call.func.id in helpers and call.func.id not in seen:
                seen.add(call.func.id)
                found |= _asked(helpers[call.func.id], helpers, seen)
        for one in asked:
            assert _dotted(one), f"{fn.name}: asks {ast.unparse(one)}; name a question (module.name) instead"
            found.add(_dotted(one))
    return found


def _declared(fn: ast.FunctionDef) -> set[str]:
    decorator = next(d for d in fn.decorator_list if isinstance(d, ast.Call)
                     and _dotted(d.func).rsplit(".", 1)[-1] == "control")
    reads = next((k.value for k in decorator.keywords if k.arg == "reads"), None)
    if reads is None:
        return set()
    assert isinstance(reads, ast.Tuple) and all(_dotted(e) for e in reads.elts), \
        f"{fn.name}: reads= is not a tuple of questions by name: {ast.unparse(reads)}"
    return {_dotted(e) for e in reads.elts}


def test_controls_declare_exactly_the_questions_they_ask(tree: ast.Module) -> None:
    """A control that asks a question it did not name in ``reads=`` pays its
    round trip alone; one that names a question it never asks makes the
    planner ask it for nothing."""
    helpers = _helpers(tree)
    wrong = []
    for fn in (n for n in tree.body if isinstance(n, ast.FunctionDef) and _is_control(n)):
        asked, declared = _asked(fn, helpers, {fn.name}), _declared(fn)
        if asked != declared:
            wrong.append(f"{fn.name}: asks but does not declare {sorted(asked - declared)}, "
                         f"declares but does not ask {sorted(declared - asked)}")
    assert not wrong, "; ".join(wrong)


def test_no_control_file_asks_early_on_its_own() -> None:
    """Asking early is the planner's, from ``reads=``: no file keeps a protocol of its own."""
    for path in FILES + sorted((ROOT / "tests").rglob("conftest.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        names |= {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign | ast.AnnAssign)
                  for t in (n.targets if isinstance(n, ast.Assign) else [n.target]) if isinstance(t, ast.Name)}
        found = names & {"ahead", "ahead_then", "outside_probes", "AHEAD", "cache_probes"}
        assert not found, f"{path.relative_to(ROOT)}: {sorted(found)}"


# Fixtures a control may take for their setup alone: the public user's session
# and the test image's rendering, read once before the control (a site that
# cannot give them ends the control as an error before its call).
SETUP_ONLY = frozenset({"node", "request", "proxy", "public_cookies", "public_proxy", "test_rendering",
                        "vidjil_https"})


def test_controls_take_only_the_fixtures_they_use(tree: ast.Module) -> None:
    """A signature carries what the promise reads: a fixture its body never
    names (e.g. ``host`` taken only to stop on an unreachable host, which
    the plugin does for every control) is refused."""
    unused = []
    for fn in tree.body:
        if isinstance(fn, ast.FunctionDef) and _is_control(fn):
            named = {n.id for stmt in fn.body for n in ast.walk(stmt) if isinstance(n, ast.Name)}
            unused += [f"{fn.name}({arg.arg})" for arg in fn.args.args
                       if arg.arg not in named and arg.arg not in SETUP_ONLY]
    assert not unused, unused
