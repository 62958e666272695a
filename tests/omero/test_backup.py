"""OMERO.server backup practice (seed 002)."""

from __future__ import annotations

import pytest

from deploycheck.controls import control
from deploycheck.variables import expect


@control("OMERO-BACKUP-01", "A daily cron job dumps the database with pg_dump -Fc", "high",
         "seed 002: Backing up your PostgreSQL database")
@pytest.mark.hosts("database")
def test_daily_pg_dump_job(node, host) -> None:  # noqa: ANN001
    job = expect(node, "pg_dump_job")
    f = host.file(job)
    assert f.exists, f"{node.name}: {job} is missing; expected a daily pg_dump job"
    assert f.mode & 0o111, f"{node.name}: {job} is not executable (mode {oct(f.mode)}); run-parts skips it"
    assert "pg_dump" in f.content_string and "-Fc" in f.content_string, \
        f"{node.name}: {job} does not run 'pg_dump -Fc'"
