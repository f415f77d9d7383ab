"""A database of the schema before issue 22 (main at 46f5dfa: tests/data/schema_v2.*.sql)
opens with the fewer indexes of touchpoint and of the ledger's records (tests/test_indexes.py),
its rows kept and found, on SQLite and on PostgreSQL (store.migrate)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from peewee import Database, IntegrityError, PostgresqlDatabase

from store.db import open_database
from store.ledger.models import RAW_KEYED, MessageRecord
from store.models import Touchpoint
from tests.frozen_schema import made_by

# Rows of the schema before: a first touchpoint and a customer's reply to it (parent and thread
# set), one synced from Salesforce (external_id), one deleted; the ledger rows of the two mails.
_TP = ('INSERT INTO "touchpoint" ("account_id", "type", "flow", "reasons", "occurred_at", '
       '"subject", "content", "creator_id", "creator_email", "creator_domain", "participants", '
       '"attachments", "message_key", "message_id", "mailbox", "trace", "thread_id", '
       '"parent_id", "created_at", "source", "external_id", "deleted_at") VALUES ')
MAIN_ROWS = [
    """INSERT INTO "account" ("account_id", "name", "default_bcc", "contact_matches_only")
       VALUES ('ACME', 'Acme Corp', {false}, {false}), ('ROAD', 'Roadrunner', {false}, {false})""",
    """INSERT INTO "teammember" ("email", "name", "role")
       VALUES ('sam@ourco.com', 'Sam', 'user')""",
    _TP + """('ACME', 'email', 'Default', '[]', '2026-11-02 14:30:00', 'Pricing', 'Hi', 1,
       'sam@ourco.com', 'ourco.com', '[]', '[]', 'p1@ourco.com', 'p1@ourco.com', 'INBOX', '{{}}',
       NULL, NULL, '2026-11-02 14:31:00', 'email', NULL, NULL)""",
    _TP + """('ACME', 'email', 'Default', '[]', '2026-11-03 09:00:00', 'Re: Pricing', 'Yes',
       NULL, 'wile@acme.com', 'acme.com', '[]', '[]', 'r1@acme.com', 'r1@acme.com', 'INBOX',
       '{{}}', 1, 1, '2026-11-03 09:01:00', 'email', NULL, NULL)""",
    _TP + """('ROAD', 'Meeting', 'Default', '[]', '2026-11-04 10:00:00', 'Visit', '', NULL,
       'boss@partner.com', 'partner.com', '[]', '[]', NULL, NULL, '', '{{}}', NULL, NULL,
       '2026-11-04 10:00:00', 'salesforce', '00u5e000001abcd', NULL)""",
    _TP + """('ROAD', 'email', 'Default', '[]', '2026-11-05 10:00:00', 'Oops', '', 1,
       'sam@ourco.com', 'ourco.com', '[]', '[]', 'd1@ourco.com', 'd1@ourco.com', 'INBOX',
       '{{}}', NULL, NULL, '2026-11-05 10:00:00', 'email', NULL, '2026-11-06 08:00:00')""",
    """INSERT INTO "messagerecord" ("key", "message_id", "outcome", "reason", "detail", "trace",
       "touchpoint_id", "sender", "subject", "mailbox", "attempts", "processed_at") VALUES
       ('p1@ourco.com', '<p1@ourco.com>', 'logged', 'contact', '', '{{}}', 1, 'sam@ourco.com',
        'Pricing', 'INBOX', 1, '2026-11-02 14:31:00'),
       ('r1@acme.com', '<r1@acme.com>', 'logged', 'thread', '', '{{}}', 2, 'wile@acme.com',
        'Re: Pricing', 'INBOX', 1, '2026-11-03 09:01:00'),
       ('sha256:9f86d081884c7d65', '<p1@ourco.com>', 'failed', 'no_account', '', '{{}}', NULL,
        'eve@evil.example', 'Pricing', 'INBOX', 1, '2026-11-07 09:00:00')""",
]
GONE = {"touchpoint_account_id", "touchpoint_creator_id", "touchpoint_thread_id",
        "touchpoint_parent_id", "touchpoint_external_id", "tp_live_sender_history",
        "tp_live_account_type", "messagerecord_message_id"}


@pytest.fixture(params=["sqlite", "postgres"])
def main_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database as main made it before issue 22, with rows."""
    if request.param == "sqlite":
        return made_by("v2", MAIN_ROWS, "sqlite", tmp_path / "main.db")
    return made_by("v2", MAIN_ROWS, "postgres", request.getfixturevalue("pg_url"))


def _indexes(db: Database, table: str) -> set[str]:
    return {i.name for i in db.get_indexes(table)} - {f"{table}_pkey"}


def _models_indexes(model: Any) -> set[str]:
    return {index._name for index in model._meta.fields_to_index()}


def test_a_database_of_the_schema_before_upgrades_to_the_fewer_indexes(main_database):
    from store.ledger.records import (
        find_by_key_or_touchpoint,
        records_by_message_id,
        reused_message_ids,
    )
    from store.timeline.threads import in_thread
    from store.timeline.touchpoints import Filter, replies_of, timeline

    db = open_database(main_database)
    assert _indexes(db, "touchpoint") == _models_indexes(Touchpoint)
    assert not GONE & _indexes(db, "touchpoint")
    assert _indexes(db, "messagerecord") == _models_indexes(MessageRecord)
    assert not GONE & _indexes(db, "messagerecord")
    # the rows, and what finds them by the indexes that changed
    assert [tp.subject for tp in timeline(where=Filter(limit=10))] == [
        "Visit", "Re: Pricing", "Pricing"]
    first = Touchpoint.get_by_id(1)
    assert [tp.id for tp in replies_of(first)] == [2]
    assert [tp.id for tp in in_thread(first)] == [1, 2]
    assert Touchpoint.get(Touchpoint.external_id == "00u5e000001abcd").subject == "Visit"
    assert find_by_key_or_touchpoint("2").key == "r1@acme.com"
    # the Message-ID a stranger's message reused (its record under its bytes) is known as such
    found = records_by_message_id(["p1@ourco.com", "r1@acme.com"])
    assert reused_message_ids(found.values()) == {"<p1@ourco.com>"}
    _the_plans_are_the_new_ones(db)
    # the Salesforce Id stays unique; the rows without one are as many as they like
    with pytest.raises(IntegrityError), db.atomic():
        _touchpoint("ROAD", external_id="00u5e000001abcd")
    _touchpoint("ROAD")
    _touchpoint("ROAD")
    db.close()
    # a second open finds it up to date
    db = open_database(main_database)
    assert _indexes(db, "touchpoint") == _models_indexes(Touchpoint)
    assert Touchpoint.select().count() == 6
    db.close()


def _touchpoint(account: str, **fields: Any) -> Touchpoint:
    return Touchpoint.create(account=account, flow="Default", occurred_at=datetime(2026, 11, 9),
                             creator_email="x@partner.com", creator_domain="partner.com",
                             **fields)


def _the_plans_are_the_new_ones(db: Database) -> None:
    """SQLite's plans name the new indexes (PostgreSQL's choice depends on the table's size:
    tests/test_indexes.py asks it over more rows); PostgreSQL's are partial where they should
    be (the sender's history is full: it serves the foreign-key check of a member's delete)."""
    from store.directory.lookups import _latest_query

    queries = {"tp_sender_history": _latest_query("sender", [":id0"]),
               "tp_thread": Touchpoint.select().where(Touchpoint.thread_id == 1),
               "tp_parent": Touchpoint.select().where(Touchpoint.parent == 1),
               "tp_external": Touchpoint.select().where(Touchpoint.external_id == "x"),
               "rec_twin_message_id": MessageRecord.select().where(
                   MessageRecord.message_id == "x", RAW_KEYED)}
    if isinstance(db, PostgresqlDatabase):
        defined = dict(db.execute_sql("SELECT indexname, indexdef FROM pg_indexes"))
        partial = {name: " WHERE " in defined[name] for name in queries}
        assert partial == {name: name != "tp_sender_history" for name in queries}, defined
        return
    for name, query in queries.items():
        sql, params = query.sql()
        plan = " ".join(r[-1] for r in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params))
        assert f"INDEX {name} " in plan, plan
