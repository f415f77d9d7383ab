"""A pass's memory stays flat as the database grows (issue 10): the pages it reads through
SQLite's map are let go after each batch (store.db.release_map)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from store.db import open_database, release_map

_MAPPING = re.compile(r"^[0-9a-f]+-[0-9a-f]+ ")  # an smaps header line: a mapping's range


def _mapped_kb(path: Path) -> int:
    """Resident kB of this process's mappings of `path` (Linux /proc/self/smaps)."""
    total, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        if _MAPPING.match(line):
            inside = line.rstrip().endswith(str(path))
        elif inside and line.startswith("Rss:"):
            total += int(line.split()[1])
    return total


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="Linux /proc only")
def test_pages_read_through_the_map_are_let_go(tmp_path):
    path = tmp_path / "touchlog.db"
    db = open_database(f"sqlite:///{path}")
    db.execute_sql("CREATE TABLE filler (x TEXT)")
    with db.atomic():
        for _ in range(40):
            db.execute_sql("INSERT INTO filler SELECT hex(randomblob(500)) "
                           "FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                           "WHERE i < 500) SELECT i FROM n)")
    db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    assert db.execute_sql("SELECT count(*), sum(length(x)) FROM filler").fetchone()[0] == 20_000
    before = _mapped_kb(path)
    assert before > 10_000, before  # ~20 MB read through the map
    release_map()
    assert _mapped_kb(path) < 1_000
    # Reading works as before, through a fresh map.
    assert db.execute_sql("SELECT count(*) FROM filler").fetchone()[0] == 20_000
    db.close()
