"""A database another program keeps locked (a `sqlite3` shell left inside a write, a backup
tool): the pass says so in one line and exits 1, nothing is touched, and the next pass after the
lock is gone logs the mail (issue 9)."""

from __future__ import annotations

import sqlite3

import pytest

from store import db as store_db
from tests.builders import make_mail


@pytest.fixture
def short_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite waits busy_timeout (10 s) for a lock before giving up: a third of a second here."""
    monkeypatch.setitem(store_db.SQLITE_PRAGMAS, "busy_timeout", 300)


def test_a_locked_database_is_one_line_and_loses_nothing(world, short_wait):
    world.imap.append(make_mail(to="Wile E. Coyote <wile@acme.com>", subject="Locked out"))
    holder = sqlite3.connect(world.folder / "touchlog.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # a write lock held, as a forgotten shell would
    try:
        result = world.touchlog("poll", "--once", expect=1)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    [line] = result.output.splitlines()
    assert line.startswith(f"touchlog: database sqlite:///{world.folder}/touchlog.db")
    assert "locked by another process for over 0.3 s: database is locked" in line
    assert "Traceback" not in result.output
    [(_, raw)] = world.folder_contents("INBOX").values()
    assert b"Locked out" in raw  # still there, to be read again
    out = world.poll()
    assert out.startswith("logged 1, skipped 0, failed 0")
    assert [tp["subject"] for tp in world.touchpoints()] == ["Locked out"]
    assert world.folder_contents("INBOX") == {}
