"""Seed 000 (idr-database:/var/lib/pgsql; the read-only servers have a database
statement timeout; the IDR appears as a read-only resource to public users;
Bio-Formats cache regeneration) and seed 001 (first image per fileset): the
OMERO database keeps its files private, the read-only servers' role can
neither write nor run a query forever, and the lists the cache regeneration
reads from it cover every fileset, plate and dataset."""

from __future__ import annotations

from typing import TYPE_CHECKING

import psycopg2
import pytest

from deploycheck.control import control
from deploycheck.facts import hostfacts
from deploycheck.inventory.variables import expect
from deploycheck.transport.database import connect, rolled_back

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from psycopg2.extensions import connection

    from deploycheck.inventory.loader import Node

pytestmark = pytest.mark.hosts("database")
READS = ("pg_data_dir", "readonly_db_user", "readonly_db_password", "readonly_statement_timeout_s")

FIRST_IMAGE_PER_FILESET = (
    "select r.i from (select f.id, i.id as i, rank() over (partition by f.id order by i.id) as x"
    " from fileset f, image i where f.id = i.fileset) as r where r.x = 1"
)
PLATE_FIRST_IMAGES = (
    "select w.plate, min(ws.image) from wellsample ws join well w on ws.well = w.id group by w.plate"
)


def _readonly(node: Node) -> AbstractContextManager[connection]:
    return connect(node, expect(node, "readonly_db_user"), expect(node, "readonly_db_password"))


def _timeout_seconds(text: str) -> float:
    units = {"ms": 0.001, "s": 1, "min": 60, "h": 3600, "d": 86400}
    for suffix, factor in sorted(units.items(), key=lambda kv: -len(kv[0])):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text) / 1000  # PostgreSQL's default unit is milliseconds


@control("IDR-DB-01", "The PostgreSQL data directory is private to postgres (0700)", "high",
         "seed 000: idr-database:/var/lib/pgsql", shell=True)
def test_pg_data_dir_private(node: Node) -> None:
    """The data files hold every session and password hash; PostgreSQL
    itself refuses to start on a data directory others can read."""
    path = expect(node, "pg_data_dir")
    f = hostfacts.path(node, path)
    assert f.is_directory, f"{node.name}: {path} is not a directory"
    found = f"{f.user}:{oct(f.mode)}"
    assert f.user == "postgres" and f.mode == 0o700, f"{node.name}: {path} is {found}; expected postgres:0o700"


@control("IDR-DB-02", "The read-only servers' database role has a statement timeout within bounds", "high",
         "seed 000: The read-only servers have a database statement timeout", shell=True)
def test_readonly_statement_timeout(node: Node) -> None:
    """Public visitors can ask for expensive pages; without a timeout one
    query can hold a read-only server's connections for ever."""
    lo, hi = expect(node, "readonly_statement_timeout_s")
    with _readonly(node) as conn, conn.cursor() as cur:
        cur.execute("show statement_timeout")
        value = cur.fetchone()[0]
    seconds = _timeout_seconds(value)
    assert seconds > 0, f"{node.name}: role {expect(node, 'readonly_db_user')} has no statement timeout (0)"
    assert lo <= seconds <= hi, f"{node.name}: statement timeout {value}; expected {lo}..{hi} s"


@control("IDR-DB-03", "The read-only servers' database role cannot change OMERO data", "critical",
         "seed 000: The IDR appears as a read-only resource to public users", shell=True)
def test_readonly_role_cannot_write(node: Node) -> None:
    """The read-only servers face the public; their role must not be able to
    change data even if OMERO is tricked into trying. Tries an UPDATE inside
    a transaction that is always rolled back."""
    attempts = {"image": "update image set name = name where id = (select min(id) from image)",
                "pixels": "update pixels set name = name where id = (select min(id) from pixels)"}
    writable = []
    with _readonly(node) as conn:
        for table, sql in attempts.items():
            try:
                rolled_back(conn, sql)
                writable.append(table)
            except psycopg2.errors.InsufficientPrivilege:
                pass
    assert not writable, f"{node.name}: role {expect(node, 'readonly_db_user')} may write {writable}"


@control("IDR-DB-04", "Every fileset has a first image for cache regeneration", "medium",
         "seed 001: Bio-Formats cache regeneration (first image per fileset)", shell=True)
def test_first_image_per_fileset(node: Node) -> None:
    """The regeneration opens the first image of each fileset; a fileset the
    query misses keeps a cold cache and a slow first view."""
    with _readonly(node) as conn, conn.cursor() as cur:
        cur.execute(FIRST_IMAGE_PER_FILESET)
        firsts = [r[0] for r in cur.fetchall()]
        cur.execute("select count(*) from fileset")
        filesets = cur.fetchone()[0]
    assert firsts, f"{node.name}: the seed's first-image-per-fileset query returned nothing"
    assert len(firsts) == filesets, (f"{node.name}: {filesets - len(firsts)} of {filesets} filesets have no image;"
                                     " the regeneration list would miss them")


@control("IDR-DB-05", "The plate and dataset lists for cache regeneration cover every plate and dataset",
         "medium", "seed 000: Bio-Formats cache regeneration (plates.txt, datasets.txt)", shell=True)
def test_plate_and_dataset_lists(node: Node) -> None:
    """plates.txt and datasets.txt drive the regeneration; a plate with no
    well sample image is silently left out."""
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
