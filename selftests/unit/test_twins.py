"""The twins' pinned verdicts: well formed, compared both ways, and the
findings table in docs/ generated from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from selftests import twins

ROOT = Path(__file__).resolve().parents[2]


def _record(control: str, host: str, outcome: str, message: str = "") -> dict:
    return {"id": control, "host": host, "outcome": outcome, "message": message}


@pytest.mark.parametrize("name", sorted(twins.TWINS))
def test_findings_table_is_up_to_date(name: str) -> None:
    twin = twins.load(name)
    assert twin.doc.startswith("docs/"), f"{name}: its findings table belongs in docs/"
    assert (ROOT / twin.doc).read_text(encoding="utf-8") == twins.markdown(twin), "run `make controls`"


def test_every_pinned_failure_has_a_finding_and_a_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "verdicts.yml"
    bad.write_text("title: t\ninventory: i\nverdicts:\n  X-01: {outcome: failed, hosts: [h], finding: '', source: s}\n")
    monkeypatch.setitem(twins.TWINS, "bad", bad)
    with pytest.raises(ValueError, match="X-01"):
        twins.load("bad")


def test_a_verdict_that_moves_either_way_is_reported() -> None:
    twin = twins.Twin("t", "t", "i", None, {
        "A-01": twins.Pinned("A-01", "failed", ("h1",), "f", "s"),
        "C-01": twins.Pinned("C-01", "failed", ("h1",), "f", "s"),
    })
    records = [_record("A-01", "h1", "passed"), _record("B-01", "h1", "error", "boom"),
               _record("C-01", "h1", "failed", "as pinned")]
    problems = twins.compare(twin, records)
    assert any(p.startswith("A-01: failed on no host") for p in problems)
    assert any(p.startswith("B-01: failed on h1") and "boom" in p for p in problems)
    assert not any(p.startswith("C-01") for p in problems)
    assert twins.compare(twin, records[2:]) == ["A-01: pinned as failed but did not run"]
