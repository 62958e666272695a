"""The control catalogue: every control's metadata, read by importing the
control modules (no pytest run, no inventory, no stack), printed as a table
and rendered as docs/controls.md together with the seed coverage that
docs/seed_sections.yml declares.

    python -m deploycheck.catalogue                        # aligned table, sorted by id
    python -m deploycheck.catalogue --markdown             # the text of docs/controls.md
    python -m deploycheck.catalogue --check docs/controls.md   # exit 1 when out of date

Coverage is checked as well as rendered, so that the seed map cannot rot: a
control whose ref names no section, a checkable section that no control
cites, or a stale marking stops the run with exit 1."""

from __future__ import annotations

import argparse
import importlib
import inspect
import pkgutil
import re
import sys
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from deploycheck.control import REGISTRY, SEVERITIES, Control
from deploycheck.report.markdown import cell, table

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECTIONS = ROOT / "docs" / "seed_sections.yml"
SEED_REF = re.compile(r"^seed (\d{3}): (.+)$")
STATUSES = ("not_checkable", "not_covered", "same_as")
MAKE_HINT = "run `make controls`"


class CatalogueError(Exception):
    """A problem that stops the catalogue; the message is one line per problem."""


@dataclass(frozen=True)
class Entry:
    """One control as the catalogue knows it: its metadata plus where it lives and runs."""

    id: str
    title: str
    severity: str
    ref: str
    profile: str
    disruptive: bool
    hosts: tuple[str, ...]
    module: str  # relative to the controls package, e.g. "idr.test_tls"
    function: str

    @property
    def nodeid(self) -> str:
        """Where to find it in the source tree, as pytest names it."""
        return f"tests/{self.module.replace('.', '/')}.py::{self.function}"


# ---------------------------------------------------------------- loading


def controls_package() -> ModuleType:
    """The package holding the controls: ``deploycheck.tests`` (the source
    tree's ``tests/``, linked into the package and installed with it)."""
    try:
        return importlib.import_module("deploycheck.tests")
    except ModuleNotFoundError as exc:
        raise CatalogueError(f"no controls: {exc}") from exc


def _marks(obj: object) -> list[Any]:
    marks = getattr(obj, "pytestmark", [])
    return list(marks) if isinstance(marks, list | tuple) else [marks]


def _control_functions(module: ModuleType) -> Iterator[tuple[str, Any, list[Any]]]:
    """(name, function, marks nearest first) for each test function or
    method defined in ``module`` itself (re-exports are skipped)."""
    module_marks = _marks(module)
    for name, obj in vars(module).items():
        if inspect.isfunction(obj) and obj.__module__ == module.__name__ and name.startswith("test"):
            yield name, obj, _marks(obj) + module_marks
        elif inspect.isclass(obj) and obj.__module__ == module.__name__ and name.startswith("Test"):
            for meth_name, meth in vars(obj).items():
                if inspect.isfunction(meth) and meth_name.startswith("test"):
                    yield f"{name}::{meth_name}", meth, _marks(meth) + _marks(obj) + module_marks


def _entry(relative: str, name: str, marks: list[Any]) -> Entry | None:
    control = next((m for m in marks if m.name == "control"), None)
    if control is None:
        return None
    hosts = next((m for m in marks if m.name == "hosts"), None)
    meta = Control(**{f.name: control.kwargs[f.name] for f in fields(Control)})
    return Entry(
        id=meta.id, title=meta.title, severity=meta.severity, ref=meta.ref,
        profile=relative.split(".")[0] if "." in relative else "",
        disruptive=any(m.name == "disruptive" for m in marks),
        hosts=tuple(hosts.args) if hosts is not None else (),
        module=relative, function=name,
    )


SYSTEMS = {"IDR": "idr", "MSIR": "msir", "OMERO": "omero", "VIDJIL": "vidjil"}  # id prefix -> tests/ folder


def expected_module(control_id: str) -> str:
    """Where a control must live: its id's family names its file
    (``IDR-CACHE-01`` in ``tests/idr/test_cache.py``)."""
    system, family, _ = control_id.split("-")
    return f"{SYSTEMS[system]}.test_{family.lower()}"


def layout_problems(entries: Iterable[Entry]) -> list[str]:
    """One line per control that does not live in its family's file."""
    return [f"control {e.id} is in {e.nodeid}; belongs in tests/{expected_module(e.id).replace('.', '/')}.py"
            for e in entries if e.module != expected_module(e.id)]


def load_controls(package: ModuleType | None = None) -> list[Entry]:
    """Import every ``test_*`` module of the controls package and return its
    controls sorted by id. Fails on an id used twice or a control whose
    marker disagrees with the registry."""
    package = package or controls_package()
    prefix = package.__name__ + "."

    def fail(name: str) -> None:
        raise CatalogueError(f"cannot import {name}: {sys.exc_info()[1]}")

    entries: list[Entry] = []
    for info in pkgutil.walk_packages(package.__path__, prefix, onerror=fail):
        if info.ispkg or not info.name.rsplit(".", 1)[-1].startswith("test_"):
            continue
        try:
            with warnings.catch_warnings():  # markers are the plugin's to register, not the catalogue's
                warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)
                module = importlib.import_module(info.name)
        except Exception as exc:  # any failure of a control module stops the catalogue alike
            raise CatalogueError(f"cannot import {info.name}: {type(exc).__name__}: {exc}") from exc
        for name, _fn, marks in _control_functions(module):
            entry = _entry(info.name[len(prefix):], name, marks)
            if entry is not None:
                entries.append(entry)
    problems = []
    seen: dict[str, Entry] = {}
    for e in entries:
        if e.id in seen:
            problems.append(f"control id {e.id} is used by {seen[e.id].nodeid} and {e.nodeid}")
        seen[e.id] = e
        registered = REGISTRY.get(e.id)
        if registered is not None and registered != Control(e.id, e.title, e.severity, e.ref):
            problems.append(f"control {e.id}: marker of {e.nodeid} differs from the registry")
    if problems:
        raise CatalogueError("\n".join(problems))
    return sorted(entries, key=lambda e: e.id)


# ---------------------------------------------------------------- seed map


@dataclass
class Section:
    """One section of a seed document and what the map says about it."""

    seed: str
    name: str
    parent: str | None = None
    cited_as: tuple[str, ...] = ()
    not_checkable: str | None = None
    not_covered: str | None = None
    same_as: str | None = None
    controls: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.parent} › {self.name}" if self.parent else self.name

    @property
    def key(self) -> str:
        return f"{self.seed}: {self.name}"


@dataclass(frozen=True)
class Seed:
    seed: str
    file: str
    title: str
    sections: tuple[Section, ...]


@dataclass
class SeedMap:
    """docs/seed_sections.yml, read and checked for shape."""

    seeds: dict[str, Seed]
    other_sources: dict[str, str]  # prefix -> title
    other_controls: dict[str, list[str]] = field(default_factory=dict)  # prefix -> control ids

    def section(self, key: str) -> Section | None:
        seed, _, name = key.partition(": ")
        found = self.seeds.get(seed)
        return next((s for s in found.sections if s.name == name), None) if found else None


def _keys(data: object, where: str, required: set[str], optional: set[str]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise CatalogueError(f"{where}: expected a mapping")
    missing, unknown = required - data.keys(), data.keys() - required - optional
    if missing or unknown:
        raise CatalogueError(f"{where}: missing {sorted(missing)}, unknown {sorted(unknown)}")
    return data


def load_seed_map(path: Path) -> SeedMap:
    """Read the seed map; shape errors name the entry at fault."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogueError(f"cannot read {path}: {exc.strerror} (give the seed map with --sections FILE)") from exc
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from exc
    data = _keys(data, str(path), {"seeds"}, {"other_sources"})
    seeds: dict[str, Seed] = {}
    for raw in data["seeds"] or []:
        s = _keys(raw, f"{path}: seed entry", {"seed", "file", "title", "sections"}, set())
        seed = str(s["seed"])
        sections = []
        for sec in s["sections"] or []:
            where = f"{path}: seed {seed} section {sec.get('name', '?') if isinstance(sec, dict) else sec!r}"
            sec = _keys(sec, where, {"name"}, {"parent", "cited_as", *STATUSES})
            marked = [k for k in STATUSES if k in sec]
            if len(marked) > 1:
                raise CatalogueError(f"{where}: has both {marked[0]} and {marked[1]}")
            sections.append(Section(seed, str(sec["name"]), sec.get("parent"), tuple(sec.get("cited_as") or ()),
                                    sec.get("not_checkable"), sec.get("not_covered"), sec.get("same_as")))
        names = [x.name for x in sections]
        for x in sections:
            if x.parent is not None and x.parent not in names:
                raise CatalogueError(f"{path}: seed {seed} section {x.name}: parent {x.parent!r} is not a section")
        phrases = [p for x in sections for p in (x.name, *x.cited_as)]
        doubled = sorted({p for p in phrases if phrases.count(p) > 1})
        if doubled:
            raise CatalogueError(f"{path}: seed {seed}: {doubled} name more than one section")
        if seed in seeds:
            raise CatalogueError(f"{path}: seed {seed} is listed twice")
        seeds[seed] = Seed(seed, str(s["file"]), str(s["title"]), tuple(sections))
    others = {}
    for raw in data.get("other_sources") or []:
        o = _keys(raw, f"{path}: other source", {"prefix", "title"}, set())
        others[str(o["prefix"])] = str(o["title"])
    return SeedMap(seeds, others)


def split_citation(citation: str) -> tuple[str, str | None]:
    """``"idr-proxy (port 9000)"`` -> ``("idr-proxy", "port 9000")``; text after
    ``;`` in the head is a further note and is dropped."""
    head, detail = citation, None
    if citation.endswith(")") and " (" in citation:
        head, detail = citation[: citation.index(" (")], citation[citation.index(" (") + 2: -1]
    return head.split(";")[0].strip(), detail


def resolve(ref: str, seed_map: SeedMap) -> Section | str:
    """The section a ref cites, or the prefix of the other source it cites;
    CatalogueError when it cites neither."""
    match = SEED_REF.match(ref)
    if match is None:
        for prefix in seed_map.other_sources:
            if ref == prefix or ref.startswith((f"{prefix} ", f"{prefix}:")):
                return prefix
        raise CatalogueError(f"ref {ref!r} cites no seed ('seed NNN: section') and no other source")
    seed = seed_map.seeds.get(match[1])
    if seed is None:
        raise CatalogueError(f"ref {ref!r} cites seed {match[1]}, which is not in the seed map")
    head, detail = split_citation(match[2])
    by_phrase = {p: s for s in seed.sections for p in (s.name, *s.cited_as)}
    section = by_phrase.get(head)
    if section is None:
        raise CatalogueError(f"ref {ref!r} names {head!r}, which is no section (or cited_as) of seed {seed.seed}")
    child = by_phrase.get(detail or "")
    if child is not None and child.parent == section.name:
        return child
    return section


def map_controls(entries: Iterable[Entry], seed_map: SeedMap) -> list[str]:
    """Attach each control to the section or source its ref cites and return
    every disagreement between the controls and the map (empty when they agree)."""
    problems = []
    entries = list(entries)
    seed_map.other_controls.clear()
    for seed in seed_map.seeds.values():
        for s in seed.sections:
            s.controls.clear()
    for e in entries:
        if not e.profile:
            problems.append(f"control {e.id} ({e.nodeid}) is in no profile subpackage")
        if e.severity not in SEVERITIES:
            problems.append(f"control {e.id}: severity {e.severity!r} not in {SEVERITIES}")
        try:
            target = resolve(e.ref, seed_map)
        except CatalogueError as exc:
            problems.append(f"control {e.id}: {exc}")
            continue
        if isinstance(target, Section):
            target.controls.append(e.id)
        else:
            seed_map.other_controls.setdefault(target, []).append(e.id)
    for seed in seed_map.seeds.values():
        for s in seed.sections:
            where = f"seed {s.seed} section {s.name!r}"
            if s.same_as is not None:
                same = seed_map.section(s.same_as)
                if same is None or same.same_as is not None:
                    problems.append(f"{where}: same_as {s.same_as!r} is not a section (or is itself a same_as)")
            if s.controls and (s.not_checkable or s.not_covered or s.same_as):
                kind = next(k for k in STATUSES if getattr(s, k))
                problems.append(f"{where} is marked {kind} but {', '.join(s.controls)} cite it; remove the marking")
            elif not s.controls and not (s.not_checkable or s.not_covered or s.same_as):
                problems.append(f"{where} is checkable but no control cites it; "
                                "add a control or mark it not_covered: <why>")
    return problems


def effective(section: Section, seed_map: SeedMap) -> tuple[str, str, list[str]]:
    """(status, reason, controls) of a section, following same_as:
    status is one of covered, not_covered, not_checkable."""
    via = seed_map.section(section.same_as) if section.same_as else None
    source = via or section
    if source.not_checkable:
        status, reason = "not_checkable", source.not_checkable
    elif source.not_covered:
        status, reason = "not_covered", source.not_covered
    else:
        status, reason = "covered", ""
    if via is not None:
        reason = f"same text as seed {via.seed} › {via.name}" + (f": {reason}" if reason else "")
    return status, reason, sorted(source.controls)


# ---------------------------------------------------------------- output


def terminal_table(entries: list[Entry]) -> str:
    """A plain aligned table for a terminal."""
    head = ("ID", "PROFILE", "SEVERITY", "HOSTS", "DISRUPTIVE", "TITLE", "SEED REFERENCE")
    rows = [head] + [(e.id, e.profile, e.severity, ",".join(e.hosts) or "-", "yes" if e.disruptive else "",
                      e.title, e.ref) for e in entries]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head) - 1)]
    lines = ["  ".join([c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)] + [r[-1]]) for r in rows]
    counts = ", ".join(f"{p} {n}" for p, n in _per_profile(entries).items())
    lines.append(f"\n{len(entries)} controls ({counts})")
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _per_profile(entries: list[Entry]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for e in sorted(entries, key=lambda e: e.profile):
        counts[e.profile] = counts.get(e.profile, 0) + 1
    return counts


def markdown(entries: list[Entry], seed_map: SeedMap) -> str:
    """The text of docs/controls.md (the map must already be filled by map_controls)."""
    profiles = sorted({e.profile for e in entries})
    out = [
        "> Generated by `make controls` (`python -m deploycheck.catalogue --markdown`) from the controls in",
        "> `tests/` and from `docs/seed_sections.yml`. Do not edit by hand.",
        "",
        "# Control catalogue",
        "",
        f"{len(entries)} controls. Each is one test function; its id, title, severity and seed reference come "
        "from its `@control` decorator. *Disruptive* controls change state and run only with "
        "`--allow-disruptive`; *Hosts* are the inventory groups a control runs on, once per host.",
        "",
    ]
    out += table(
        ("ID", "Title", "Severity", "Profile", "Hosts", "Disruptive", "Seed reference", "Test"),
        ((cell(e.id), cell(e.title), e.severity, e.profile, cell(", ".join(e.hosts)) or "-",
          "yes" if e.disruptive else "", cell(e.ref), cell(e.nodeid)) for e in entries))
    out += ["", "## Counts", ""]
    rows = []
    for p in [*profiles, None]:
        group = [e for e in entries if p is None or e.profile == p]
        rows.append([p or "**total**", *(str(sum(e.severity == s for e in group)) for s in SEVERITIES),
                     str(sum(e.disruptive for e in group)), str(len(group))])
    out += table(("Profile", *SEVERITIES, "disruptive", "total"), rows)
    out += _coverage(seed_map)
    return "\n".join(out) + "\n"


def _coverage(seed_map: SeedMap) -> list[str]:
    sections = [s for seed in seed_map.seeds.values() for s in seed.sections]
    status = {s.key: effective(s, seed_map) for s in sections}
    own = [status[s.key][0] for s in sections if s.same_as is None]  # a repeated text counts once
    count = {k: own.count(k) for k in ("covered", "not_covered", "not_checkable")}
    repeats = len(sections) - len(own)
    out = [
        "", "## Seed coverage", "",
        "Every section of the seed documents, as listed in `docs/seed_sections.yml`: the controls whose ref "
        "cites it, or why none does. A section makes a checkable promise unless marked not checkable.",
        "",
        f"{len(own)} sections: {count['covered'] + count['not_covered']} checkable, of which "
        f"{count['covered']} covered and {count['not_covered']} not covered; {count['not_checkable']} not "
        f"checkable. Not counted: {repeats} more sections that repeat the text of another seed and take "
        "its status.",
    ]
    words = {"covered": "covered", "not_covered": "**not covered**", "not_checkable": "not checkable"}
    for seed in seed_map.seeds.values():
        out += ["", f"### Seed {seed.seed}: {cell(seed.title)} (`{seed.file}`)", ""]
        rows = []
        for s in seed.sections:
            kind, reason, controls = status[s.key]
            text = words[kind] + (f": {cell(reason)}" if reason else "")
            rows.append([cell(s.label), text, ", ".join(controls)])
        out += table(("Section", "Status", "Controls"), rows)
    gaps = [s for s in sections if s.not_covered]
    out += ["", "### Not covered", "",
            "Checkable promises that no control checks (sections that repeat one of these are not listed again):",
            ""]
    out += [f"- seed {s.seed} › {cell(s.label)}: {cell(s.not_covered or '')}" for s in gaps] or ["- none"]
    out += ["", "### Controls citing sources other than the seeds", ""]
    out += table(("Source", "What it is", "Controls"),
                     ([cell(p), cell(t), ", ".join(sorted(seed_map.other_controls.get(p, [])))]
                      for p, t in seed_map.other_sources.items()))
    return out


def build(sections_path: Path = DEFAULT_SECTIONS, entries: list[Entry] | None = None) -> tuple[list[Entry], SeedMap]:
    """Load the controls (unless given) and the seed map and check them against each other."""
    entries = load_controls() if entries is None else entries
    seed_map = load_seed_map(sections_path)
    problems = layout_problems(entries) + map_controls(entries, seed_map)
    if problems:
        raise CatalogueError(f"the controls (their files, or {sections_path}) need fixing:\n  - "
                             + "\n  - ".join(problems))
    return entries, seed_map


def check(path: Path, expected: str) -> str | None:
    """None when ``path`` holds exactly ``expected``, else a one-line reason."""
    try:
        found = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return f"{path} does not exist: {MAKE_HINT}"
    return None if found == expected else f"{path} is out of date: {MAKE_HINT}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploycheck.catalogue", description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--markdown", action="store_true", help="print docs/controls.md")
    mode.add_argument("--check", metavar="FILE", type=Path, help="exit 1 if FILE differs from --markdown's output")
    parser.add_argument("--sections", metavar="FILE", type=Path, default=DEFAULT_SECTIONS,
                        help="the seed map (default: docs/seed_sections.yml of the source tree)")
    args = parser.parse_args(argv)
    try:
        if not (args.markdown or args.check):
            entries = load_controls()
            sys.stdout.write(terminal_table(entries))
            if args.sections.is_file():  # an installed copy has no docs/: the table alone is still useful
                build(args.sections, entries)
            return 0
        entries, seed_map = build(args.sections)
    except CatalogueError as exc:
        print(f"deploycheck.catalogue: {exc}", file=sys.stderr)
        return 1
    text = markdown(entries, seed_map)
    if args.markdown:
        sys.stdout.write(text)
        return 0
    problem = check(args.check, text)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    print(f"{args.check} is up to date ({len(entries)} controls)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
