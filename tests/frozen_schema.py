"""A database as an earlier touchlog made it: one of the frozen schemas under tests/data, with
rows, on SQLite or PostgreSQL, for the upgrade tests (store.migrate)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


def made_by(version: str, rows: Sequence[str], kind: str, where: Path | str) -> str:
    """The database URL of schema `version` ("v1", "v2") with `rows` (`{false}` in each row
    is the database's false) on `kind` ("sqlite": a file at `where`; "postgres": the empty
    database at URL `where`)."""
    if kind == "sqlite":
        conn = sqlite3.connect(where)
        conn.executescript((DATA / f"schema_{version}.sqlite.sql").read_text())
        for row in rows:
            conn.execute(row.format(false=0))
        conn.commit()
        conn.close()
        return f"sqlite:///{where}"
    psycopg2 = pytest.importorskip("psycopg2")
    pg = psycopg2.connect(str(where))
    with pg, pg.cursor() as cur:
        cur.execute((DATA / f"schema_{version}.postgres.sql").read_text())
        for row in rows:
            cur.execute(row.format(false="false"))
    pg.close()
    return str(where)
