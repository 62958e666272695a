"""CI-facing reports, end to end without a stack: a tiny synthetic control
suite on two ``ansible_connection: local`` hosts runs through the deploycheck
plugin in a subprocess (with xdist, as in CI). Its junit.xml must validate
against selftests/schemas/junit.xsd with test cases named ``ID[host]``, and its
summary.md must parse as GFM tables with one row per control and host."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest
import xmlschema
from markdown_it import MarkdownIt
from markdown_it.token import Token

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "selftests" / "schemas" / "junit.xsd"
HOSTS = ("alpha", "beta")
MESSAGE_TAIL = "second line <b>bold?</b> __init__ *star* `tick` \\ back"

SUITE = textwrap.dedent('''
    import pytest

    from deploycheck.control import control


    @pytest.fixture
    def unreachable(node):
        raise ConnectionError(f"{node.name}: connection refused")


    @control("IDR-SELFPASS-01", "Passes on every host", "low", "selftest")
    @pytest.mark.hosts("proxy")
    def test_passes(node):
        assert node.name


    @control("IDR-SELFFAIL-01", "Fails | with a pipe in its title", "critical", "selftest")
    @pytest.mark.hosts("proxy")
    def test_fails(node):
        assert node.name == "nobody", f"{node.name}: left | right\\n%s"


    @control("MSIR-SELFERR-01", "Errors in setup", "high", "selftest")
    @pytest.mark.hosts("proxy")
    def test_errors(node, unreachable):
        pass


    @control("MSIR-SELFSKIP-01", "Does not apply", "medium", "selftest")
    @pytest.mark.hosts("proxy")
    def test_skips(node):
        pytest.skip(f"{node.name}: not applicable")


    def test_not_a_control():
        pass
''') % MESSAGE_TAIL.replace("\\", "\\\\")

INVENTORY = textwrap.dedent("""
    all:
      vars: {ansible_connection: local}
      children:
        proxy:
          hosts:
            alpha: {public_url: "http://127.0.0.1:9"}
            beta: {public_url: "http://127.0.0.1:9"}
""")

CONTROLS = {"IDR-SELFPASS-01": "passed", "IDR-SELFFAIL-01": "failed", "MSIR-SELFERR-01": "error",
            "MSIR-SELFSKIP-01": "skipped"}


@dataclass
class Run:
    rc: int
    output: str
    reports: Path
    step_summary: Path


def run_suite(where: Path, *args: str, step_summary: Path | None = None) -> subprocess.CompletedProcess[str]:
    """pytest on the synthetic suite in ``where``, with this checkout's plugin and a clean environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "GITHUB_STEP_SUMMARY"))}
    env["PYTHONPATH"] = str(ROOT)  # this checkout's deploycheck, not another one installed in editable mode
    if step_summary is not None:
        env["GITHUB_STEP_SUMMARY"] = str(step_summary)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--inventory={where / 'inv.yml'}",
                           *args], cwd=where, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("suite")
    (where / "test_synthetic.py").write_text(SUITE)
    (where / "inv.yml").write_text(INVENTORY)
    return where


@pytest.fixture(scope="module")
def run(suite: Path) -> Run:
    """One xdist run with the deploycheck-managed junit.xml, under GitHub Actions' summary variable."""
    step_summary = suite / "step_summary.md"
    step_summary.write_text("Output of an earlier step\n")
    done = run_suite(suite, "-n", "2", f"--reports-dir={suite / 'reports'}", step_summary=step_summary)
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    return Run(done.returncode, done.stdout + done.stderr, suite / "reports", step_summary)


def controls_json(run: Run) -> list[dict]:
    return json.loads((run.reports / "controls.json").read_text())["controls"]


def test_junit_has_no_testcase_properties(run: Run) -> None:
    """deploycheck's bookkeeping travels as user properties; none reaches junit.xml."""
    root = ET.parse(run.reports / "junit.xml").getroot()
    assert not root.findall(".//testcase/properties")


def test_junit_validates_with_control_names(run: Run) -> None:
    junit = run.reports / "junit.xml"
    xmlschema.XMLSchema(SCHEMA).validate(junit)
    cases = ET.parse(junit).getroot().findall("./testsuite/testcase")
    names = {(c.get("classname"), c.get("name")) for c in cases}
    expected = {(f"deploycheck.{cid.split('-')[0].lower()}", f"{cid}[{host}]") for cid in CONTROLS for host in HOSTS}
    assert names == expected | {("test_synthetic", "test_not_a_control")}
    outcome_of = {c.get("name"): [child.tag for child in c if child.tag in ("failure", "error", "skipped")]
                  for c in cases}
    tags = {"passed": [], "failed": ["failure"], "error": ["error"], "skipped": ["skipped"]}
    for cid, outcome in CONTROLS.items():
        for host in HOSTS:
            assert outcome_of[f"{cid}[{host}]"] == tags[outcome], cid


def test_junit_counts_match(run: Run) -> None:
    suite_el = ET.parse(run.reports / "junit.xml").getroot().find("testsuite")
    assert suite_el is not None
    cases = suite_el.findall("testcase")
    counted = {tag: sum(1 for c in cases if c.find(tag) is not None) for tag in ("failure", "error", "skipped")}
    assert int(suite_el.get("tests", -1)) == len(cases) == len(CONTROLS) * len(HOSTS) + 1
    assert int(suite_el.get("failures", -1)) == counted["failure"] == len(HOSTS)
    assert int(suite_el.get("errors", -1)) == counted["error"] == len(HOSTS)
    assert int(suite_el.get("skipped", -1)) == counted["skipped"] == len(HOSTS)
    outcomes = {(c["id"], c["host"]): c["outcome"] for c in controls_json(run)}
    assert outcomes == {(cid, host): outcome for cid, outcome in CONTROLS.items() for host in HOSTS}


@pytest.mark.parametrize("breakage", ["nameless testcase", "unknown element", "testsuite as root", "bad count",
                                      "testcase properties"])
def test_schema_rejects_broken_reports(run: Run, breakage: str) -> None:
    """The same real report, broken in one place: validation is not vacuous."""
    schema = xmlschema.XMLSchema(SCHEMA)
    root = ET.parse(run.reports / "junit.xml").getroot()
    assert schema.is_valid(root)
    suite_el = root.find("testsuite")
    assert suite_el is not None
    case = suite_el.find("testcase")
    assert case is not None
    if breakage == "nameless testcase":
        del case.attrib["name"]
    elif breakage == "unknown element":
        ET.SubElement(case, "flaky")
    elif breakage == "testsuite as root":
        root = suite_el
    elif breakage == "testcase properties":  # what pytest writes for user properties, left in place
        ET.SubElement(ET.SubElement(case, "properties"), "property", name="deploycheck_requests", value="1")
    else:
        suite_el.set("failures", "many")
    assert not schema.is_valid(root)


def _tables(markdown: str) -> dict[str, list[list[str]]]:
    """Body rows of each GFM table, as rendered cell texts, by the heading above it."""
    tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
    tables: dict[str, list[list[str]]] = {}
    heading, in_body = "", False
    row: list[str] | None = None
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open":
            heading = tokens[i + 1].content
        elif tok.type == "tbody_open":
            in_body = True
            tables[heading] = []
        elif tok.type == "tbody_close":
            in_body = False
        elif tok.type == "tr_open" and in_body:
            row = []
            tables[heading].append(row)
        elif tok.type == "inline" and in_body and row is not None and tokens[i - 1].type == "td_open":
            row.append(_text(tok.children or []))
    return tables


def _text(children: list[Token]) -> str:
    """What a reader sees: literal text only; raw HTML or a line break would show up as missing text."""
    return "".join(c.content for c in children if c.type in ("text", "code_inline"))


def test_summary_is_gfm_tables(run: Run) -> None:
    summary = (run.reports / "summary.md").read_text()
    first = summary.splitlines()[0]
    assert first.startswith("# ") and "FAILED" in first and "2 failed" in first and "2 error" in first
    tables = _tables(summary)
    every = tables["All controls"]
    assert len(every) == len(CONTROLS) * len(HOSTS) and all(len(row) == 6 for row in every), every
    assert {(row[0], row[1]): row[2] for row in every} == {(c["id"], c["host"]): c["outcome"]
                                                          for c in controls_json(run)}
    assert all(row[4] == "Fails | with a pipe in its title" for row in every if row[0] == "IDR-SELFFAIL-01")
    attention = tables["Needs attention"]
    assert len(attention) == 2 * len(HOSTS) and all(len(row) == 6 for row in attention), attention
    assert [(row[0], row[1]) for row in attention] == [("IDR-SELFFAIL-01", h) for h in HOSTS] + [
        ("MSIR-SELFERR-01", h) for h in HOSTS]  # failures first, the most severe first
    messages = {row[1]: row[5] for row in attention if row[0] == "IDR-SELFFAIL-01"}
    assert messages == {h: f"{h}: left | right {MESSAGE_TAIL}" for h in HOSTS}


def test_summary_appended_to_github_step_summary(run: Run) -> None:
    summary = (run.reports / "summary.md").read_text()
    assert run.step_summary.read_text() == "Output of an earlier step\n\n" + summary


def test_junitxml_option_gets_control_names(suite: Path) -> None:
    """--junitxml=PATH (here without xdist) is renamed the same way; no step summary without the variable."""
    done = run_suite(suite, "--junitxml=custom/out.xml", f"--reports-dir={suite / 'reports2'}", "-k", "passes")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    xml = suite / "custom" / "out.xml"
    xmlschema.XMLSchema(SCHEMA).validate(xml)
    names = sorted(c.get("name", "") for c in ET.parse(xml).getroot().iter("testcase"))
    assert names == [f"IDR-SELFPASS-01[{h}]" for h in HOSTS]
    assert not (suite / "reports2" / "junit.xml").exists()


CONTROL_CHAR_HOSTS = {  # as written in the inventory (YAML escapes) -> as reports show them
    "esc\\eend": "esc\\x1bend", "bell\\aend": "bell\\x07end", "nul\\0end": "nul\\x00end", "vt\\vend": "vt\\x0bend",
    "tab\\tend": "tab\\x09end", "nl\\nend": "nl\\x0aend", "csi\\x9bend": "csi\\x9bend",
}
CONTROL_CHARS = [chr(c) for c in [*range(0x20), *range(0x7f, 0xa0)]]


def test_control_characters_in_host_names_are_escaped_everywhere(tmp_path: Path) -> None:
    """Host names with a terminal escape, a bell, NUL, tabs and newlines: junit.xml
    stays valid XML, and neither a report nor the terminal gets them raw."""
    (tmp_path / "test_synthetic.py").write_text(SUITE)
    hosts = "".join(f'        "{name}": {{public_url: "http://127.0.0.1:9"}}\n' for name in CONTROL_CHAR_HOSTS)
    (tmp_path / "inv.yml").write_text(INVENTORY.split("alpha")[0].lstrip() + hosts.lstrip())
    done = run_suite(tmp_path, "-n", "2", f"--reports-dir={tmp_path / 'reports'}", "-rA", "--color=no",
                     f"--prometheus-textfile={tmp_path / 'reports' / 'run.prom'}", step_summary=tmp_path / "step.md")
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    reports = tmp_path / "reports"
    xmlschema.XMLSchema(SCHEMA).validate(reports / "junit.xml")
    names = {c.get("name") for c in ET.parse(reports / "junit.xml").getroot().iter("testcase")}
    assert {f"IDR-SELFFAIL-01[{shown}]" for shown in CONTROL_CHAR_HOSTS.values()} <= names
    records = controls_json(Run(1, "", reports, tmp_path))
    assert {r["host"] for r in records} == set(CONTROL_CHAR_HOSTS.values())
    failed = [r["message"] for r in records if r["id"] == "IDR-SELFFAIL-01"]
    assert any(m.startswith("esc\\x1bend: left | right\n") for m in failed), failed
    for path in [*reports.iterdir(), tmp_path / "step.md"]:
        text = path.read_bytes().decode("utf-8")
        raw = {c for c in CONTROL_CHARS if c in text} - {"\n", "\t"}
        assert not raw, (path.name, raw)
    terminal = {c for c in CONTROL_CHARS if c in done.stdout + done.stderr} - {"\n", "\t"}
    assert not terminal, terminal
