"""Waivers against the live stack: a waived failure passes the run, an
expired waiver does not, an unknown control id is a usage error."""

from __future__ import annotations

import pytest

from conftest import reference

SELECT = ["-k", "maintenance_flag_absent"]


def failing_maintenance_inventory() -> dict:
    """The maintenance control pointed at a file that exists: a real failure."""
    inv = reference("idr")
    inv["all"]["children"]["proxy"]["vars"]["maintenance_flag"] = "/etc/hostname"
    return inv


def waiver(expires: str, control: str = "IDR-MAINT-01") -> dict:
    return {"waivers": [{"id": control, "host": "idr-proxy", "justification": "self-test", "expires": expires}]}


def test_waived_failure_does_not_fail_the_run(deploycheck) -> None:
    run = deploycheck(failing_maintenance_inventory(), *SELECT, waivers=waiver("2099-12-31"))
    assert run.rc == 0, run.output[-800:]
    [record] = [c for c in run.controls() if c["id"] == "IDR-MAINT-01"]
    assert record["outcome"] == "waived" and "waived until 2099-12-31" in record["message"]


def test_expired_waiver_no_longer_applies(deploycheck) -> None:
    run = deploycheck(failing_maintenance_inventory(), *SELECT, waivers=waiver("2020-01-01"))
    assert run.rc == 1, run.output[-800:]
    [record] = [c for c in run.controls() if c["id"] == "IDR-MAINT-01"]
    assert record["outcome"] == "failed" and "waiver expired on 2020-01-01" in record["message"]


@pytest.mark.parametrize("workers", ["0", "2"])
def test_unknown_control_id_is_a_usage_error(deploycheck, workers: str) -> None:
    """Refused before any worker starts: one line, exit 2, nothing crashes."""
    run = deploycheck(reference("idr"), *SELECT, "-n", workers,
                      waivers=waiver("2099-12-31", control="IDR-NOPE-99"))
    assert run.rc == 2, run.output[-800:]
    assert "unknown control id(s) IDR-NOPE-99" in run.output
    assert "crashed" not in run.output and "Traceback" not in run.output, run.output[-800:]
