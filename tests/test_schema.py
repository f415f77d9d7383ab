"""The schema: a database made by the previous touchlog opens and keeps its data (store.migrate),
and the history tie-breaks and the timeline stay on their indexes, ignoring tombstones."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from store.db import open_database
from store.models import Account, TeamMember, Touchpoint
from store.schema import MODELS
from tests.frozen_schema import made_by

OLD_ROWS = [
    """INSERT INTO "account" VALUES ('ACME', 'Acme Corp', NULL, {false}, {false})""",
    """INSERT INTO "teammember" ("email", "name", "role")
       VALUES ('sam@ourco.com', 'Sam', 'user')""",
    """INSERT INTO "touchpoint" ("account_id", "type", "flow", "reasons", "occurred_at", "subject",
       "content", "creator_id", "creator_domain", "participants", "attachments", "message_key",
       "message_id", "mailbox", "uid", "scenario", "rule", "trace", "thread_id", "parent_id",
       "created_at") VALUES ('ACME', 'email', 'Default', '[]', '2026-11-02 14:30:00', 'Pricing',
       'Hi', 1, 'ourco.com', '[]', '[]', 'old-1@ourco.com', 'old-1@ourco.com', 'INBOX', 7, 'copy',
       'contact', '{{}}', NULL, NULL, '2026-11-02 14:31:00')""",
    """INSERT INTO "messagerecord" ("key", "message_id", "outcome", "reason", "detail", "trace",
       "touchpoint_id", "sender", "subject", "mailbox", "uid", "attempts", "processed_at")
       VALUES ('old-1@ourco.com', 'old-1@ourco.com', 'logged', 'contact', '', '{{}}', 1,
       'sam@ourco.com', 'Pricing', 'INBOX', 7, 1, '2026-11-02 14:31:00')""",
]


@pytest.fixture(params=["sqlite", "postgres"])
def old_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return made_by("v1", OLD_ROWS, "sqlite", tmp_path / "old.db")
    return made_by("v1", OLD_ROWS, "postgres", request.getfixturevalue("pg_url"))


def test_a_database_of_the_previous_schema_opens_and_keeps_its_touchpoints(old_database):
    from store.timeline.touchpoints import as_json, timeline

    db = open_database(old_database)
    [old] = timeline()
    assert {k: v for k, v in as_json(old).items() if k in (
        "id", "account_id", "creator", "subject", "source", "updated_at", "external_id",
        "scenario", "rule", "thread_id", "message_id")} == {
        "id": 1, "account_id": "ACME", "creator": "sam@ourco.com", "subject": "Pricing",
        "source": "email", "updated_at": None, "external_id": None, "scenario": "copy",
        "rule": "contact", "thread_id": 1,
        # no Message-ID as written in a row of then: the normalized one it has
        "message_id": "old-1@ourco.com"}
    # what the new schema allows: no message key, no scenario, a creator who is no member
    manual = Touchpoint.create(account="ACME", flow="Default", occurred_at=datetime(2026, 11, 3),
                               creator=None, creator_email="boss@partner.com",
                               creator_domain="partner.com", source="salesforce",
                               external_id="00u5e000001abcd")
    assert manual.message_key is None and manual.scenario is None
    indexes = {i.name for i in db.get_indexes("touchpoint")}
    assert {"tp_sender_history", "tp_live_account_timeline"} <= indexes
    assert "touchpoint_creator_id_account_id_created_at" not in indexes
    assert {"task", "keptvalue", "touchpointmail"} <= set(db.get_tables())
    db.close()
    # a second open finds it up to date and changes nothing
    db = open_database(old_database)
    assert [t.id for t in timeline()] == [manual.id, 1]
    db.close()


def test_every_column_of_the_models_exists_after_the_migration(old_database):
    db = open_database(old_database)
    for model in MODELS:
        have = {c.name: c.null for c in db.get_columns(model._meta.table_name)}
        for field in model._meta.sorted_fields:
            assert field.column_name in have, (model.__name__, field.column_name)
            if field.null:
                assert have[field.column_name], (model.__name__, field.column_name)
    db.close()


# --- plans ---------------------------------------------------------------------------------------


def _plan(db, query) -> str:
    sql, params = query.sql()
    return " | ".join(str(row[-1]) for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params))


def test_history_tie_breaks_are_index_only_scans_of_live_rows(db):
    from store.directory.lookups import _latest_query

    for kind, name in (("sender", "tp_sender_history"),
                       ("domain_history", "tp_live_domain_history")):
        plan = _plan(db, _latest_query(kind, [":id0", ":id1"]))
        assert f"COVERING INDEX {name}" in plan, plan


def test_history_ignores_tombstoned_touchpoints(db):
    from store.directory.lookups import SqlDirectory

    Account.create(account_id="A", name="A")
    Account.create(account_id="B", name="B")
    sam = TeamMember.create(email="sam@ourco.com")
    for n, (acc, day) in enumerate((("A", 1), ("B", 2))):
        Touchpoint.create(account=acc, flow="Default", occurred_at=datetime(2026, 1, day),
                          created_at=datetime(2026, 1, day), creator=sam,
                          creator_email=sam.email, creator_domain="ourco.com",
                          message_key=f"k{n}", scenario="copy", rule="contact")
    directory = SqlDirectory()
    assert set(directory.sender_history(sam.id, ["A", "B"])) == {"A", "B"}
    Touchpoint.update(deleted_at=datetime(2026, 1, 3)).where(Touchpoint.account == "B").execute()
    assert set(directory.sender_history(sam.id, ["A", "B"])) == {"A"}
    assert set(directory.domain_history("ourco.com", ["A", "B"], datetime(2025, 1, 1))) == {"A"}


@pytest.mark.parametrize("where, index", [
    ({"account_id": "A", "limit": 50}, "tp_live_account_timeline"),
    ({"account_id": "A", "notes": False, "limit": 50}, "tp_live_account_timeline"),
    ({"account_id": "A", "since": datetime(2026, 1, 1), "limit": 50}, "tp_live_account_timeline"),
    ({"account_id": "A", "notes": True, "limit": 50}, "tp_account_type"),
    ({"account_id": "A", "type": "email", "limit": 50}, "tp_account_type"),
    ({"limit": 50}, "tp_live_timeline"),
])
def test_the_timeline_reads_its_first_page_from_an_index_in_order(db, where, index):
    from store.timeline.touchpoints import Filter, timeline_query

    plan = _plan(db, timeline_query(Filter(**where)))
    assert f"INDEX {index}" in plan and "TEMP B-TREE" not in plan, plan


def test_the_accounts_summary_is_one_index_only_pass(db):
    from peewee import fn

    query = (Touchpoint.select(Touchpoint.account, Touchpoint.type, fn.COUNT(Touchpoint.id),
                               fn.MAX(Touchpoint.occurred_at))
             .where(Touchpoint.deleted_at.is_null())
             .group_by(Touchpoint.account, Touchpoint.type))
    assert "COVERING INDEX tp_account_type" in _plan(db, query)


def test_postgres_can_answer_the_timeline_and_history_from_their_indexes(pg_url):
    from store.directory.lookups import _latest_query
    from store.timeline.touchpoints import Filter, timeline_query

    db = open_database(pg_url)
    accounts = ["A", *(f"X{i}" for i in range(29))]
    for acc in accounts:
        Account.create(account_id=acc, name=acc)
    team = [TeamMember.create(email=f"m{i}@ourco.com").id for i in range(20)]
    rows = [{"account": accounts[n % 30], "flow": "Default", "creator": team[n % 20],
             "occurred_at": datetime(2026, 1, 1 + n % 28, n % 24), "creator_domain": "ourco.com",
             "type": "internal_note" if n % 10 == 0 else "email", "message_key": f"k{n}"}
            for n in range(3000)]
    Touchpoint.insert_many(rows).execute()
    db.execute_sql("ANALYZE touchpoint")
    # A small table may be cheaper to sort: ask whether the index can give the order at all.
    for knob in ("enable_seqscan", "enable_sort", "enable_bitmapscan"):
        db.execute_sql(f"SET {knob} = off")
    queries = {"tp_live_account_timeline": timeline_query(Filter(account_id="A", limit=50)),
               "tp_account_type": timeline_query(Filter(account_id="A", notes=True, limit=50))}
    for index, query in queries.items():
        sql, params = query.sql()
        plan = " ".join(r[0] for r in db.execute_sql("EXPLAIN " + sql, params))
        assert index in plan and "Sort" not in plan, plan
    values = {":creator": 1, ":id0": "A", ":domain": "ourco.com", ":since": datetime(2026, 1, 2)}
    for kind, index in (("sender", "tp_sender_history"),
                        ("domain_history", "tp_live_domain_history")):
        sql, markers = _latest_query(kind, [":id0"]).sql()
        plan = " ".join(r[0] for r in db.execute_sql(
            "EXPLAIN " + sql, [values.get(m, m) for m in markers]))
        assert index in plan, plan
    db.close()

