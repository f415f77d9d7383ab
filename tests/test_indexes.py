"""The indexes of touchpoint and of the ledger's records (issue 22): every logged message keeps
each one, so there are as few as the queries need (bench/bench_inserts.py). Each lookup and
each foreign-key check still searches one, on SQLite and on PostgreSQL; a database of the schema
before upgrades to them (tests/test_indexes_upgrade.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from peewee import Database, IntegrityError, PostgresqlDatabase

from store.db import open_database
from store.ledger.models import MessageRecord
from store.models import Account, TeamMember, Touchpoint


@pytest.fixture(params=["sqlite", "postgres"])
def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 't.db'}" if request.param == "sqlite" \
        else request.getfixturevalue("pg_url")
    db = open_database(url)
    yield db
    db.close()


def _touchpoint(account: str, **fields: Any) -> Touchpoint:
    return Touchpoint.create(account=account, flow="Default", occurred_at=datetime(2026, 11, 9),
                             creator_email="x@partner.com", creator_domain="partner.com",
                             **fields)


# --- each lookup on its index ---------------------------------------------------------------


def _plan(db: Database, sql: str, params: Any) -> str:
    """The statement's plan; PostgreSQL is told to avoid a sequential scan where it can (a small
    table is cheaper to read whole): this asks whether an index can answer it at all."""
    if isinstance(db, PostgresqlDatabase):
        with db.atomic():
            db.execute_sql("SET LOCAL enable_seqscan = off")
            return " | ".join(r[0] for r in db.execute_sql("EXPLAIN " + sql, params))
    return " | ".join(str(r[-1]) for r in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params))


def _history(db: Database, count: int) -> None:
    """Mail as the poller logs it, on more accounts and from more members: few replies, no
    Salesforce Ids. PostgreSQL then knows the table (as autovacuum tells it)."""
    accounts = [f"X{i}" for i in range(20)]
    Account.insert_many([{"account_id": a, "name": a} for a in accounts]).execute()
    team = [TeamMember.create(email=f"m{i}@ourco.com").id for i in range(10)]
    Touchpoint.insert_many([
        {"account": accounts[n % 20], "flow": "Default", "creator": team[n % 10],
         "creator_email": f"m{n % 10}@ourco.com", "creator_domain": "ourco.com",
         "occurred_at": datetime(2026, 1, 1 + n % 28, n % 24), "message_key": f"h{n}@ourco.com",
         "message_id": f"h{n}@ourco.com"} for n in range(count)]).execute()
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql("ANALYZE touchpoint")


def _statements(caplog: pytest.LogCaptureFixture, call: Callable[[], object]) -> list[tuple]:
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        call()
    return [r.msg for r in caplog.records if r.name == "peewee" and isinstance(r.msg, tuple)
            and '"touchpoint"' in r.msg[0] and r.msg[0].lstrip().startswith(("SELECT", "UPDATE"))]


def test_each_lookup_by_a_slimmed_index_still_searches_it(any_db, tmp_path, caplog):
    """The thread, the replies, a Salesforce Id, a sender's history, a removed member's
    touchpoints and a reply's parent: each statement on the index that answers it."""
    from store.directory.csvfile import ImportOptions
    from store.directory.import_team import import_team
    from store.directory.lookups import SqlDirectory
    from store.timeline.pages import timeline_page
    from store.timeline.threads import in_thread
    from store.timeline.touchpoints import Filter, replies_of, thread_parent
    from sync.local import TouchpointSide
    from tests.builders import TEAM_CSV, settings_for

    Account.create(account_id="A", name="A")
    sam = TeamMember.create(email="sam@ourco.com")
    first = _touchpoint("A", creator=sam, message_id="m1@x")
    _touchpoint("A", parent=first, thread_id=first.id)
    _touchpoint("A", external_id="00u5e000001abcd")
    _history(any_db, 2000)
    side = TouchpointSide(settings_for(tmp_path), SqlDirectory())
    (tmp_path / "team.csv").write_text(TEAM_CSV.replace("sam@ourco.com", "sue@ourco.com"))
    calls: dict[str, Callable[[], object]] = {
        "tp_thread": lambda: (in_thread(first), timeline_page(Filter(account_id="A"))),
        "tp_parent": lambda: replies_of(first),
        "tp_external": lambda: side.by_external_id(["00U5E000001ABCD"]),
        "tp_sender_history": lambda: SqlDirectory().sender_history(sam.id, ["A"]),
        "tp_message_account": lambda: thread_parent("A", ["m1@x"]),
    }
    for index, call in calls.items():
        statements = _statements(caplog, call)
        assert statements, index
        plans = [_plan(any_db, sql, list(params)) for sql, params in statements]
        assert any(index in plan for plan in plans), (index, plans)
    # `import team --replace` leaving Sam out: his touchpoints keep his address, found by id
    updates = _statements(caplog, lambda: import_team(tmp_path / "team.csv",
                                                      options=ImportOptions(replace=True)))
    assert len(updates) == 11  # Sam, and the ten members _history made
    for sql, params in updates:
        assert "tp_sender_history" in _plan(any_db, sql, list(params)), sql
    assert Touchpoint.get_by_id(first.id).creator_email == "sam@ourco.com"



def test_a_reused_message_id_is_found_on_the_twins_index(any_db, caplog):
    """Only twins (recorded under their bytes) are indexed by Message-ID; the failed folder's
    question, which of these Message-IDs another message reused, is asked of that index. A
    Message-ID that merely looks like such a key is no twin."""
    from store.ledger.records import records_by_message_id, reused_message_ids

    rows = [(f"h{n}@ourco.com", f"<h{n}@ourco.com>") for n in range(2000)] + [
        ("same@ourco.com", "<same@ourco.com>"), ("sha256:0a1b2c", "<same@ourco.com>"),
        ("sha256:evil@ourco.com", "<sha256:evil@ourco.com>"),
        ("solo@ourco.com", "<Solo@ourco.com>")]
    MessageRecord.insert_many([{"key": key, "message_id": written, "outcome": "failed",
                                "sender": "x@y.example"} for key, written in rows]).execute()
    if isinstance(any_db, PostgresqlDatabase):
        any_db.execute_sql("ANALYZE messagerecord")
    found = records_by_message_id(["same@ourco.com", "sha256:evil@ourco.com", "solo@ourco.com"])
    assert len(found) == 3
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        assert reused_message_ids(found.values()) == {"<same@ourco.com>"}
    [(sql, params)] = [r.msg for r in caplog.records
                       if r.name == "peewee" and isinstance(r.msg, tuple)]
    assert "rec_twin_message_id" in _plan(any_db, sql, list(params))

# --- foreign-key checks ---------------------------------------------------------------------

# Deleting each parent row (one no touchpoint names) checks the touchpoints that could name it,
# on an index that leads with the child's column (a partial index on deleted_at cannot serve,
# one on `col IS NOT NULL` can).
PARENTS = {"teammember": ('DELETE FROM "teammember" WHERE "id" = {sue}', "tp_sender_history"),
           "account": ("""DELETE FROM "account" WHERE "account_id" = 'B'""", "tp_account_type"),
           "touchpoint": ('DELETE FROM "touchpoint" WHERE "id" = {lone}', "tp_parent")}


def _sqlite_checks(db: Database, statement: str) -> tuple[set[str], set[str]]:
    """The tables SQLite's program for `statement` reads whole (or one of their indexes whole),
    and the indexes it searches, the foreign-key checks included (EXPLAIN QUERY PLAN does not
    show those)."""
    roots = {root: (name, table) for root, name, table in
             db.execute_sql("SELECT rootpage, name, tbl_name FROM sqlite_master")}
    cursors: dict[int, tuple[str, str]] = {}
    scans, searches = set(), set()
    for addr, op, p1, p2, *_ in db.execute_sql("EXPLAIN " + statement):
        if addr == 0:  # a trigger's or a cascade's own program starts
            cursors = {}
        if op in ("OpenRead", "OpenWrite"):
            cursors[p1] = roots.get(p2, ("", ""))
        elif op == "Rewind":
            scans.add(cursors.get(p1, ("", ""))[1])
        elif op in ("SeekGE", "SeekGT", "SeekLE", "SeekLT"):
            searches.add(cursors.get(p1, ("", ""))[0])
    return scans, searches


def _postgres_checks(db: Database, statement: str) -> tuple[int, set[str]]:
    """Sequential scans of touchpoint while PostgreSQL runs `statement` (rolled back), and the
    indexes whose scans it counted."""
    counts = ("SELECT (SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relname = "
              "'touchpoint'), array(SELECT relname || ':' || pg_stat_get_xact_numscans(oid) "
              "FROM pg_class WHERE relkind = 'i' AND relname LIKE 'tp%%')")
    with db.atomic() as transaction:
        db.execute_sql("SET LOCAL enable_seqscan = off")
        (seq_before, before), = db.execute_sql(counts)
        db.execute_sql(statement)
        (seq_after, after), = db.execute_sql(counts)
        transaction.rollback()
    return seq_after - seq_before, {i.split(":")[0] for i in set(after) - set(before)}


def test_deleting_a_member_an_account_or_a_touchpoint_checks_its_references_on_an_index(any_db):
    Account.create(account_id="A", name="A")
    Account.create(account_id="B", name="B")
    sam, sue = TeamMember.create(email="sam@ourco.com"), TeamMember.create(email="sue@ourco.com")
    first = _touchpoint("A", creator=sam)
    _touchpoint("A", parent=first, thread_id=first.id)
    lone = _touchpoint("A")
    _history(any_db, 2000)
    names = {"sam": sam.id, "sue": sue.id, "first": first.id, "lone": lone.id}
    for table, (statement, index) in PARENTS.items():
        sql = statement.format(**names)
        if isinstance(any_db, PostgresqlDatabase):
            seq_scans, searched = _postgres_checks(any_db, sql)
            assert seq_scans == 0 and index in searched, (table, seq_scans, searched)
        else:
            scans, searches = _sqlite_checks(any_db, sql)
            assert "touchpoint" not in scans and index in searches, (table, scans, searches)
    # what the checks are for: a member, an account or a touchpoint still named is kept
    for statement in ('DELETE FROM "teammember" WHERE "id" = {sam}',
                      """DELETE FROM "account" WHERE "account_id" = 'A'""",
                      'DELETE FROM "touchpoint" WHERE "id" = {first}'):
        with pytest.raises(IntegrityError), any_db.atomic():
            any_db.execute_sql(statement.format(**names))
    for statement, _ in PARENTS.values():
        any_db.execute_sql(statement.format(**names))
    assert (Account.select().count(), TeamMember.select().count()) == (21, 11)
