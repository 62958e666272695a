"""The textfile's content from records: parsed back with prometheus_client's
own parser; no message (they quote hosts' answers) reaches it."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from deploycheck.report.prometheus import profile_of, write_textfile
from deploycheck.report.records import Record


def _record(id: str, host: str, outcome: str, nodeid: str = "tests/idr/test_x.py::test_a[h]") -> Record:
    return Record(id=id, title="t", severity="high", ref="r", host=host, outcome=outcome, duration_s=0.1,
                  message="secret-looking answer s3cr3t", nodeid=nodeid)


def test_written_atomically_and_parsed_back(tmp_path: Path) -> None:
    records = [_record("IDR-SYS-01", "p", "passed"), _record("IDR-SYS-01", "q", "failed"),
               _record("IDR-DB-02", "db", "error"), _record("IDR-CACHE-01", "p", "waived"),
               _record("VIDJIL-TLS-01", "v", "skipped", "deploycheck/tests/vidjil/test_tls.py::test_b[v]")]
    path = tmp_path / "deploycheck.prom"
    path.write_text("old content")
    write_textfile(path, {"duration_s": 4.5, "ended": 1_790_000_000.0, "exit_status": 1}, records)
    text = path.read_text()
    assert "s3cr3t" not in text and "old content" not in text
    values = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            values[(s.name, s.labels.get("id"), s.labels.get("host"), s.labels.get("outcome"))] = (s.value, s.labels)
    assert values[("deploycheck_control_passed", "IDR-SYS-01", "p", None)][0] == 1
    assert values[("deploycheck_control_passed", "IDR-SYS-01", "q", None)][0] == 0
    assert values[("deploycheck_control_passed", "IDR-DB-02", "db", None)][0] == 0
    assert values[("deploycheck_control_passed", "IDR-CACHE-01", "p", None)][0] == 1
    skipped = values[("deploycheck_control_skipped", "VIDJIL-TLS-01", "v", None)]
    assert skipped[0] == 1 and skipped[1]["profile"] == "vidjil" and skipped[1]["severity"] == "high"
    assert ("deploycheck_control_passed", "VIDJIL-TLS-01", "v", None) not in values
    assert values[("deploycheck_controls", None, None, "failed")][0] == 1
    assert values[("deploycheck_run_timestamp_seconds", None, None, None)][0] == 1_790_000_000.0
    assert list(tmp_path.iterdir()) == [path]


def test_profile_from_the_control_file() -> None:
    assert profile_of("tests/msir/test_ms.py::test_a[idr-proxy]") == "msir"
    assert profile_of("deploycheck/tests/omero/test_backup.py::test_b") == "omero"
    assert profile_of("test_a.py::test_b") == ""
