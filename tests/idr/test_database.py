"""The OMERO database as the IDR docs use it (seeds 000/001)."""

from __future__ import annotations

import psycopg2
import pytest

from deploycheck.control import control
from deploycheck.inventory.variables import expect
from deploycheck.transport.database import connect

FIRST_IMAGE_PER_FILESET = (
    "select r.i from (select f.id, i.id as i, rank() over (partition by f.id order by i.id) as x"
    " from fileset f, image i where f.id = i.fileset) as r where r.x = 1"
)
PLATE_FIRST_IMAGES = (
    "select w.plate, min(ws.image) from wellsample ws join well w on ws.well = w.id group by w.plate"
)


def _readonly(node):  # noqa: ANN001, ANN202
    return connect(node, expect(node, "readonly_db_user"), expect(node, "readonly_db_password"))


def _timeout_seconds(text: str) -> float:
    units = {"ms": 0.001, "s": 1, "min": 60, "h": 3600, "d": 86400}
    for suffix, factor in sorted(units.items(), key=lambda kv: -len(kv[0])):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text) / 1000  # PostgreSQL's default unit is milliseconds


@control("IDR-DB-02", "The read-only servers' database role has a statement timeout within bounds", "high",
         "seed 000: The read-only servers have a database statement timeout")
@pytest.mark.hosts("database")
def test_readonly_statement_timeout(node) -> None:  # noqa: ANN001
    lo, hi = expect(node, "readonly_statement_timeout_s")
    with _readonly(node) as conn, conn.cursor() as cur:
        cur.execute("show statement_timeout")
        value = cur.fetchone()[0]
    seconds = _timeout_seconds(value)
    assert seconds > 0, f"{node.name}: role {expect(node, 'readonly_db_user')} has no statement timeout (0)"
    assert lo <= seconds <= hi, f"{node.name}: statement timeout {value}; expected {lo}..{hi} s"


@control("IDR-DB-03", "The read-only servers' database role cannot change OMERO data", "critical",
         "seed 000: The IDR appears as a read-only resource to public users")
@pytest.mark.hosts("database")
def test_readonly_role_cannot_write(node) -> None:  # noqa: ANN001
    """Tries an UPDATE inside a transaction that is always rolled back."""
    attempts = {"image": "update image set name = name where id = (select min(id) from image)",
                "pixels": "update pixels set name = name where id = (select min(id) from pixels)"}
    writable = []
    with _readonly(node) as conn:
        for table, sql in attempts.items():
            try:
                with conn.cursor() as cur:
                    cur.execute(sql)
                writable.append(table)
            except psycopg2.errors.InsufficientPrivilege:
                pass
            finally:
                conn.rollback()
    assert not writable, f"{node.name}: role {expect(node, 'readonly_db_user')} may write {writable}"


@control("IDR-DB-04", "Every fileset has a first image for cache regeneration", "medium",
         "seed 001: Bio-Formats cache regeneration (first image per fileset)")
@pytest.mark.hosts("database")
def test_first_image_per_fileset(node) -> None:  # noqa: ANN001
    with _readonly(node) as conn, conn.cursor() as cur:
        cur.execute(FIRST_IMAGE_PER_FILESET)
        firsts = [r[0] for r in cur.fetchall()]
        cur.execute("select count(*) from fileset")
        filesets = cur.fetchone()[0]
    assert firsts, f"{node.name}: the seed's first-image-per-fileset query returned nothing"
    assert len(firsts) == filesets, (f"{node.name}: {filesets - len(firsts)} of {filesets} filesets have no image;"
                                     " the regeneration list would miss them")


@control("IDR-DB-05", "The plate and dataset lists for cache regeneration cover every plate and dataset",
         "medium", "seed 000: Bio-Formats cache regeneration (plates.txt, datasets.txt)")
@pytest.mark.hosts("database")
def test_plate_and_dataset_lists(node) -> None:  # noqa: ANN001
    with _readonly(node) as conn, conn.cursor() as cur:
        cur.execute(PLATE_FIRST_IMAGES)
        plates = dict(cur.fetchall())
        cur.execute("select id from plate")
        all_plates = [r[0] for r in cur.fetchall()]
        cur.execute("select d.id from dataset d")
        datasets = [r[0] for r in cur.fetchall()]
    assert datasets or all_plates, f"{node.name}: no plates and no datasets; nothing to regenerate"
    empty = sorted(set(all_plates) - set(plates))
    assert not empty, f"{node.name}: plates {empty} have no well sample image; expected one per plate"
