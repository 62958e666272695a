"""--prometheus-textfile on the live stack: the file parses with
prometheus_client's own parser, holds one sample per control and host, and
a control that really failed reads 0."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from conftest import reference

SELECT = ["-k", "IDR-DB or IDR-SYS or IDR-MAINT", "-n", "2"]


def _samples(path: Path) -> dict[str, list]:
    found: dict[str, list] = {}
    for family in text_string_to_metric_families(path.read_text()):
        for sample in family.samples:
            found.setdefault(sample.name, []).append(sample)
    return found


def test_one_sample_per_control_and_host_and_a_failure_reads_zero(deploycheck, tmp_path: Path) -> None:
    inv = reference("idr")
    inv["all"]["vars"]["readonly_statement_timeout_s"] = [1000, 2000]  # the live 30 s timeout is now out of bounds
    textfile = tmp_path / "deploycheck.prom"
    run = deploycheck(inv, *SELECT, f"--prometheus-textfile={textfile}")
    assert run.rc == 1, run.output[-800:]
    samples = _samples(textfile)
    records = run.controls()
    seen = [(s.labels["id"], s.labels["host"]) for name in ("deploycheck_control_passed", "deploycheck_control_skipped")
            for s in samples.get(name, [])]
    assert sorted(seen) == sorted((r["id"], r["host"]) for r in records), "one sample per control and host"
    passed = {(s.labels["id"], s.labels["host"]): s.value for s in samples["deploycheck_control_passed"]}
    assert passed[("IDR-DB-02", "idr-database")] == 0
    assert all(v == (0 if r["outcome"] in ("failed", "error") else 1) for r in records
               if (v := passed.get((r["id"], r["host"]))) is not None)
    assert {s.labels["profile"] for s in samples["deploycheck_control_passed"]} == {"idr"}
    counts = {s.labels["outcome"]: s.value for s in samples["deploycheck_controls"]}
    assert counts["failed"] == sum(1 for r in records if r["outcome"] == "failed") >= 1
    assert samples["deploycheck_run_exit_status"][0].value == 1
    assert samples["deploycheck_run_duration_seconds"][0].value > 0
    assert not list(tmp_path.glob("deploycheck.prom.*")), "the temporary file is renamed, not left behind"


def test_a_textfile_the_collector_would_not_read_is_refused(deploycheck, tmp_path: Path) -> None:
    run = deploycheck(reference("idr"), *SELECT, f"--prometheus-textfile={tmp_path / 'out.txt'}")
    assert run.rc == 2 and "must end in .prom" in run.output, run.output[-400:]
    run = deploycheck(reference("idr"), *SELECT, f"--prometheus-textfile={tmp_path / 'missing' / 'x.prom'}")
    assert run.rc == 2 and "not a folder we can write to" in run.output, run.output[-400:]
