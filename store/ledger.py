"""One row per message key (what happened to it) and one row per poll pass."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from peewee import IntegrityError

from store import compiled
from store.models import Lease, MessageRecord, Run, database, utcnow


def find_record(key: str) -> MessageRecord | None:
    """Asked once per message: compiled once (see store.compiled)."""
    rows = compiled.run(("record_by_key",), lambda: MessageRecord.select(MessageRecord.id)
                        .where(MessageRecord.key == ":key"), {":key": key})
    return MessageRecord.get_by_id(rows[0][0]) if rows else None


def records_by_message_id(message_ids: Iterable[str]) -> dict[str, MessageRecord]:
    ids = [m for m in message_ids if m]
    if not ids:
        return {}
    query = MessageRecord.select().where(MessageRecord.message_id.in_(ids))
    return {r.message_id: r for r in query}


def save_record(existing: MessageRecord | None, **fields: Any) -> MessageRecord:
    """Insert the record, or overwrite a failed one that is being retried.

    A second worker inserting the same key at the same time hits the unique index and its
    transaction rolls back: that is what keeps a message from being logged twice.
    """
    if existing is None:
        return MessageRecord.create(**fields)
    for name, value in fields.items():
        setattr(existing, name, value)
    existing.attempts += 1
    existing.processed_at = utcnow()
    existing.save()
    return existing


def find_by_key_or_touchpoint(value: str) -> MessageRecord | None:
    """`touchlog explain` takes a message key, a Message-ID or a touchpoint id."""
    record = find_record(value) or find_record(value.strip().strip("<>"))
    if record is None and value.isdigit():
        record = MessageRecord.get_or_none(MessageRecord.touchpoint == int(value))
    if record is None:
        record = MessageRecord.get_or_none(MessageRecord.message_id == value.strip().strip("<>"))
    return record


def start_run(now: datetime | None = None) -> Run:
    return Run.create(started_at=now or utcnow())


def finish_run(run: Run, counts: dict[str, int], errors: list[str], status: str,
               now: datetime | None = None) -> Run:
    run.finished_at = now or utcnow()
    run.counts = counts
    run.errors = errors
    run.status = status
    run.save()
    return run


def recent_runs(limit: int = 20) -> list[Run]:
    return list(Run.select().order_by(Run.id.desc()).limit(limit))


def take_lease(name: str, holder: str, seconds: int, now: datetime | None = None) -> bool:
    """Take or renew the lease on `name`; False while another holder's lease runs."""
    now = now or utcnow()
    expires = now + timedelta(seconds=seconds)
    try:
        with database.atomic():
            Lease.create(name=name, holder=holder, expires_at=expires)
        return True
    except IntegrityError:
        pass
    taken = (Lease.update(holder=holder, expires_at=expires)
             .where((Lease.name == name) & ((Lease.holder == holder) | (Lease.expires_at < now)))
             .execute())
    return taken == 1


def release_lease(name: str, holder: str) -> None:
    Lease.delete().where((Lease.name == name) & (Lease.holder == holder)).execute()
