"""The control catalogue: docs/controls.md is what the controls and
docs/seed_sections.yml generate, every control resolves to a seed section (or
a listed other source), ids are unique, and --check catches a stale file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from deploycheck import catalogue
from deploycheck.catalogue import CatalogueError, Entry, Section

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "controls.md"
SECTIONS = ROOT / "docs" / "seed_sections.yml"
PROFILES = {"idr", "msir", "omero", "vidjil"}


@pytest.fixture(scope="module")
def built() -> tuple[list[Entry], catalogue.SeedMap]:
    return catalogue.build(SECTIONS)


def test_controls_md_is_up_to_date(built) -> None:
    entries, seed_map = built
    expected = catalogue.markdown(entries, seed_map)
    assert DOC.is_file(), "docs/controls.md is missing: run `make controls`"
    assert DOC.read_text(encoding="utf-8") == expected, "docs/controls.md is out of date: run `make controls`"


def test_ids_unique_and_profiles_known(built) -> None:
    entries, _ = built
    ids = [e.id for e in entries]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    assert entries, "no controls found"
    assert {e.profile for e in entries} <= PROFILES, {e.id: e.profile for e in entries if e.profile not in PROFILES}


def test_every_ref_resolves(built) -> None:
    entries, seed_map = built
    unresolved = []
    for e in entries:
        try:
            target = catalogue.resolve(e.ref, seed_map)
        except CatalogueError as exc:
            unresolved.append(f"{e.id}: {exc}")
            continue
        assert isinstance(target, Section) or target in seed_map.other_sources
    assert not unresolved, unresolved


def test_catalogue_matches_registry(built) -> None:
    """Loading registered every control it found, with the same metadata."""
    from deploycheck.control import REGISTRY

    entries, _ = built
    for e in entries:
        assert REGISTRY[e.id].ref == e.ref and REGISTRY[e.id].title == e.title


def test_check_fails_on_a_modified_copy(tmp_path: Path) -> None:
    copy = tmp_path / "controls.md"
    copy.write_text(DOC.read_text(encoding="utf-8"), encoding="utf-8")
    cmd = [sys.executable, "-m", "deploycheck.catalogue", "--check", str(copy)]
    ok = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    copy.write_text(copy.read_text(encoding="utf-8").replace("| critical |", "| low |", 1), encoding="utf-8")
    stale = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert stale.returncode == 1
    assert stale.stderr.strip().count("\n") == 0 and "make controls" in stale.stderr, stale.stderr
    missing = subprocess.run([*cmd[:-1], str(tmp_path / "absent.md")], cwd=ROOT, capture_output=True, text=True,
                             timeout=120)
    assert missing.returncode == 1 and "does not exist" in missing.stderr


def test_check_does_not_depend_on_cwd(tmp_path: Path) -> None:
    """The source tree's controls are found from anywhere (make, CI, an editor)."""
    cmd = [sys.executable, "-m", "deploycheck.catalogue", "--check", str(DOC)]
    run = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr


def _seed_map(tmp_path: Path, text: str) -> catalogue.SeedMap:
    path = tmp_path / "seed_sections.yml"
    path.write_text(text, encoding="utf-8")
    return catalogue.load_seed_map(path)


def _entry(ref: str, control_id: str = "IDR-TEST-01") -> Entry:
    return Entry(control_id, "t", "low", ref, "idr", False, ("proxy",), "idr.test_x", "test_x")


MAP = """
seeds:
  - seed: "009"
    file: 009.txt
    title: A seed
    sections:
      - name: Top
        cited_as: [a phrase]
      - name: Child
        parent: Top
        cited_as: [detail]
      - name: Prose
        not_checkable: no promise
other_sources:
  - {prefix: some/role, title: a role}
"""


def test_resolution_rules(tmp_path: Path) -> None:
    seed_map = _seed_map(tmp_path, MAP)
    assert catalogue.resolve("seed 009: Top", seed_map).name == "Top"
    assert catalogue.resolve("seed 009: a phrase (whatever)", seed_map).name == "Top"
    assert catalogue.resolve("seed 009: Top (detail)", seed_map).name == "Child"
    assert catalogue.resolve("seed 009: Top; a note", seed_map).name == "Top"
    assert catalogue.resolve("some/role (x)", seed_map) == "some/role"
    for bad in ("seed 009: Nowhere", "seed 010: Top", "free text", "some/roleplay"):
        with pytest.raises(CatalogueError):
            catalogue.resolve(bad, seed_map)


def test_map_problems_are_reported(tmp_path: Path) -> None:
    seed_map = _seed_map(tmp_path, MAP)
    problems = catalogue.map_controls([_entry("seed 009: Nowhere"), _entry("seed 009: Prose", "IDR-TEST-02")],
                                      seed_map)
    text = "\n".join(problems)
    assert "IDR-TEST-01" in text and "'Nowhere'" in text
    assert "'Prose' is marked not_checkable but IDR-TEST-02 cite it" in text
    assert "'Top' is checkable but no control cites it" in text and "'Child' is checkable" in text
    assert not catalogue.map_controls([_entry("seed 009: Top (detail)"), _entry("seed 009: Top", "IDR-TEST-02")],
                                      seed_map)


def test_markdown_cells_are_escaped() -> None:
    assert catalogue.cell("p=intmax|intmean <b> *x* `y`") == r"p=intmax\|intmean \<b\> \*x\* \`y\`"


def test_markdown_table_reads_back(built) -> None:
    """Parsed as GFM, the controls table gives back every title and ref as
    written, so a '|' or markup in them can neither shift columns nor vanish."""
    markdown_it = pytest.importorskip("markdown_it")
    entries, seed_map = built
    tokens = markdown_it.MarkdownIt("commonmark").enable("table").parse(catalogue.markdown(entries, seed_map))
    rows: list[list[str]] = []
    in_body = False
    for tok in tokens:
        if tok.type == "tbody_open":
            in_body = True
        elif tok.type == "table_close":
            break  # the first table lists the controls
        elif in_body and tok.type == "tr_open":
            rows.append([])
        elif in_body and tok.type == "inline":
            rows[-1].append("".join(child.content for child in tok.children or []))
    found = [(r[0], r[1], r[6]) for r in rows]
    assert found == [(e.id, e.title, e.ref) for e in entries]
