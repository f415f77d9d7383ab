"""The store's per-message statements: each on an index, and no SQL rebuilt per message."""

from __future__ import annotations

import logging

import pytest
from peewee import SqliteDatabase

from poller.decide.pipeline import decide
from poller.decide.reading import Context, Source
from poller.passes.commit import commit
from store.ledger import records as ledger
from store.models import Touchpoint
from store.timeline.touchpoints import thread_parent
from tests.builders import import_directory, make_mail, settings_for


def _statements(caplog: pytest.LogCaptureFixture) -> list[tuple[str, list]]:
    return [r.msg for r in caplog.records if r.name == "peewee" and isinstance(r.msg, tuple)]


def _plan(db: SqliteDatabase, sql: str, params: list) -> list[str]:
    return [row[3] for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params)]


def _unbounded(plan: list[str]) -> list[str]:
    """Steps whose cost grows with the table or with an account's history: a bare "SCAN t"
    reads the table; a touchpoint SEARCH on the account alone reads the account's history."""
    return [step for step in plan if (step.startswith("SCAN") and "INDEX" not in step)
            or (" INDEX t" in step and step.endswith("(account_id=?)"))]


def _handle(ctx: Context, raw: bytes, uid: int) -> None:
    source = Source("INBOX", uid)
    commit(decide(raw, ctx, source))


def test_a_reply_is_logged_with_every_statement_on_an_index(db, tmp_path, caplog):
    """Decide and commit a copy, a reply to it, a duplicate and a failure: every statement
    the pass runs per message uses an index (the thread lookup used to walk the account)."""
    import_directory(tmp_path)
    ctx = Context(settings_for(tmp_path))
    for n in range(30):  # some history on the account, so a scan would show
        _handle(ctx, make_mail(to="wile@acme.com", message_id=f"<old{n}@ourco.com>"), n + 100)
    first = make_mail(to="wile@acme.com", message_id="<first@ourco.com>")
    reply = make_mail(to="wile@acme.com", message_id="<reply@ourco.com>",
                      headers={"In-Reply-To": "<first@ourco.com>",
                               "References": "<old1@ourco.com> <first@ourco.com>"})
    stranger = make_mail(to="x@nowhere-known.com", message_id="<stranger@ourco.com>")
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        for uid, raw in enumerate((first, reply, reply, stranger), start=1):
            _handle(ctx, raw, uid)
    statements = _statements(caplog)
    threads = [s for s in statements if 'FROM "touchpoint"' in s[0] and "message_id" in s[0]]
    assert threads, "the reply looked up its parent"
    for sql, params in statements:
        if sql.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE")):
            plan = _plan(db, sql, list(params))
            assert not _unbounded(plan), (sql, plan)
    for sql, params in threads:
        assert any("message_id=?" in step for step in _plan(db, sql, list(params)))
    parent = Touchpoint.get(Touchpoint.message_id == "first@ourco.com")
    child = Touchpoint.get(Touchpoint.message_id == "reply@ourco.com")
    assert (child.parent_id, child.thread_id) == (parent.id, parent.id)
    assert ledger.find_record("reply@ourco.com").outcome == "logged"


def test_inserts_are_prepared_once(db, tmp_path, caplog):
    """Every message's INSERT is the same SQL text with new values: built once, not per row."""
    import_directory(tmp_path)
    ctx = Context(settings_for(tmp_path))
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        for n in range(3):
            _handle(ctx, make_mail(to="wile@acme.com", message_id=f"<p{n}@ourco.com>"), n + 1)
    inserts = [sql for sql, _ in _statements(caplog) if sql.startswith("INSERT")]
    assert len(inserts) == 6  # a touchpoint and a record per message
    assert len(set(inserts)) == 2


def test_thread_parent_is_the_latest_reference_on_the_same_account(db, tmp_path):
    import_directory(tmp_path)
    ctx = Context(settings_for(tmp_path))
    _handle(ctx, make_mail(to="wile@acme.com", message_id="<a@ourco.com>"), 1)
    _handle(ctx, make_mail(to="wile@acme.com", message_id="<b@ourco.com>"), 2)
    a = Touchpoint.get(Touchpoint.message_id == "a@ourco.com")
    b = Touchpoint.get(Touchpoint.message_id == "b@ourco.com")
    assert thread_parent("ACME", ["a@ourco.com", "b@ourco.com"]).id == b.id
    assert thread_parent("ACME", ["a@ourco.com", "missing@x"]).id == a.id
    assert thread_parent("ROAD", ["a@ourco.com"]) is None
    assert thread_parent("ACME", []) is None
