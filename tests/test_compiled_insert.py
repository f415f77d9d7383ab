"""store.compiled.insert binds a value as it is where peewee's db_value would return it as it is
(a str into a text column, an int, a datetime, None), and asks db_value otherwise: the rows it
writes must be the very rows `Model.create` writes, on SQLite and on PostgreSQL, for hostile
values too (NUL, lone surrogates, non-ASCII, None, times with and without a zone, JSON lists,
a bool for an integer, bytes and a str subclass for text, a model instance for a foreign key),
and with encryption on, the same columns sealed and the same values opened."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from peewee import Database

from store import compiled
from store.encryption.keyring import KeyRing, is_sealed, new_key
from store.encryption.sealed import SEALING, sealed_fields
from store.ledger.models import MessageRecord
from store.models import Account, TeamMember, Touchpoint

HOSTILE = ["plain", "nul\x00inside", "lone \udcff surrogate", "Zoë 日本語 \u202e", ""]


class Text(str):
    """A str subclass: db_value is asked (str() of it is a plain str)."""


@pytest.fixture(params=["sqlite", "postgres"])
def store_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    from store.db import open_database

    if request.param == "postgres":
        request.applymarker(pytest.mark.postgres)
        url = request.getfixturevalue("pg_url")
    else:
        url = os.environ.get("TOUCHLOG_TEST_POSTGRES_URL") or f"sqlite:///{tmp_path / 't.db'}"
    db = open_database(url)
    yield db
    SEALING.ring = None
    db.close()


def _touchpoint_values(n: int, text: Any, when: datetime, member: Any) -> dict[str, Any]:
    j = text.decode() if isinstance(text, bytes) else text  # JSON has no bytes
    return dict(
        account="ACME", type="email", flow=text, reasons=[j, "b"], occurred_at=when,
        subject=text, content=f"{j}\n{j}", creator=member, creator_email=text,
        creator_domain=text, participants=[{"email": j, "name": j, "role": "external"}],
        attachments=[], message_key=f"key-{n}", message_id=None if n % 2 else text,
        written_message_id=text, mailbox=text, uid=True if n % 3 == 0 else n, scenario=None,
        rule=text, trace={"steps": [{"accounts": [j]}], j: None}, thread_id=None,
        parent=None, created_at=when, source="email", updated_at=None, updated_by=None,
        external_id=None, deleted_at=None, deleted_by=None)


def _cases() -> Iterator[tuple[Any, datetime]]:
    zones = (None, UTC, timezone(timedelta(hours=2, minutes=30)), timezone(-timedelta(hours=7)))
    for i, text in enumerate([*HOSTILE, Text("subclass"), b"bytes \xc3\xa9"]):
        zone = zones[i % len(zones)]
        yield text, datetime(2026, 3, 29, 1, 30, 15, 123456 * (i % 2), tzinfo=zone)


def _rows(db: Database, table: str, ids: list[int], skip: set[str]) -> list[dict[str, Any]]:
    cursor = db.execute_sql(f'SELECT * FROM "{table}" WHERE id IN ({", ".join(map(str, ids))}) '
                            "ORDER BY id")
    names = [d[0] for d in cursor.description]
    return [{k: v for k, v in zip(names, row, strict=True) if k not in skip}
            for row in cursor.fetchall()]


def _compare(db: Database, model: Any, pairs: list[tuple[Any, Any]], sealing: bool) -> None:
    """Each pair: (what insert wrote, what create wrote), as stored and as read back."""
    table = model._meta.table_name
    skip = {"id", "key", "message_key"}
    sealed = {f.column_name for f in sealed_fields(model)}
    ours = _rows(db, table, [a.id for a, _ in pairs], skip | (sealed if sealing else set()))
    theirs = _rows(db, table, [b.id for _, b in pairs], skip | (sealed if sealing else set()))
    assert ours == theirs
    for a, b in pairs:
        stored = _rows(db, table, [a.id, b.id], set())
        for column in sealed:  # sealed alike: both, or neither
            assert is_sealed(stored[0][column]) == is_sealed(stored[1][column]) == sealing
        again_a, again_b = model.get_by_id(a.id), model.get_by_id(b.id)
        for name in model._meta.fields:
            if name not in skip:
                assert getattr(again_a, name) == getattr(again_b, name), name


@pytest.mark.parametrize("sealing", [False, True], ids=["plain", "sealed"])
def test_insert_writes_the_rows_peewee_writes(store_db, tmp_path, sealing):
    if sealing:
        (tmp_path / "keys").write_text(new_key() + "\n")
        os.chmod(tmp_path / "keys", 0o600)
        SEALING.ring = KeyRing.load(tmp_path / "keys")
    Account.create(account_id="ACME", name="Acme")
    member = TeamMember.create(email="seller@ourco.com")
    touchpoints, records = [], []
    with store_db.atomic():
        for n, (text, when) in enumerate(_cases()):
            fk = member if n % 2 else (member.id if n % 3 else None)
            values = _touchpoint_values(2 * n, text, when, fk)
            ours = compiled.insert(Touchpoint, **values)
            theirs = Touchpoint.create(**{**values, "message_key": f"key-{2 * n + 1}"})
            assert ours.id != theirs.id
            touchpoints.append((ours, theirs))
            record = dict(message_id=text, outcome="failed", reason=None, detail=text,
                          trace={"candidates": [str(text)]}, touchpoint=ours if n % 2 else None,
                          sender=text, subject=text, date=None if n % 2 else when,
                          mailbox="INBOX", uid=n, processed_at=when, raw_sha256=text)
            records.append((compiled.insert(MessageRecord, key=f"r{2 * n}", **record),
                            MessageRecord.create(key=f"r{2 * n + 1}", **record)))
    _compare(store_db, Touchpoint, touchpoints, sealing)
    _compare(store_db, MessageRecord, records, sealing)


def test_insert_fills_defaults_as_peewee_does(store_db):
    """Columns left out take the field's default (called when it is a function)."""
    Account.create(account_id="ACME", name="Acme")
    values = dict(account="ACME", flow="inbound", occurred_at=datetime(2026, 1, 1),
                  creator_domain="ourco.com", created_at=datetime(2026, 1, 2))
    ours = compiled.insert(Touchpoint, message_key="a", **values)
    theirs = Touchpoint.create(message_key="b", **values)
    _compare(store_db, Touchpoint, [(ours, theirs)], sealing=False)
    assert Touchpoint.get_by_id(ours.id).reasons == [] and ours.trace == {}
