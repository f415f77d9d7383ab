"""One row per message key (what happened to it) and one row per poll pass."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from peewee import IntegrityError

from poller.message import message_key, normalize_message_id
from store import compiled
from store.models import Lease, MessageRecord, Run, database, utcnow


def find_record(key: str) -> MessageRecord | None:
    """Asked once per message: compiled once (see store.compiled)."""
    rows = compiled.run(("record_by_key",), lambda: MessageRecord.select(MessageRecord.id)
                        .where(MessageRecord.key == ":key"), {":key": key})
    return MessageRecord.get_by_id(rows[0][0]) if rows else None


def records_by_message_id(message_ids: Iterable[str]) -> dict[str, MessageRecord]:
    """Records by normalized Message-ID, found through their key (the column keeps the id
    as the mail wrote it)."""
    keys = {message_key(m, b""): m for m in message_ids if m}
    if not keys:
        return {}
    query = MessageRecord.select().where(MessageRecord.key.in_(list(keys)))
    return {keys[r.key]: r for r in query}


def save_record(existing: MessageRecord | None, **fields: Any) -> MessageRecord:
    """Insert the record, or overwrite a failed one that is being retried.

    A second worker inserting the same key at the same time hits the unique index and its
    transaction rolls back: that is what keeps a message from being logged twice.
    """
    if existing is None:
        return compiled.insert(MessageRecord, **fields)
    for name, value in fields.items():
        setattr(existing, name, value)
    existing.attempts += 1
    existing.processed_at = utcnow()
    existing.save()
    return existing


def find_by_key_or_touchpoint(value: str) -> MessageRecord | None:
    """`touchlog explain` takes a message key, a Message-ID (normalized exactly as keys are,
    so any case of the host and the brackets or not all find it) or a touchpoint id."""
    value = value.strip()
    record = find_record(value)
    if record is None and "@" in value:
        record = find_record(message_key(normalize_message_id(value), b""))
    if record is None and value.isdigit():
        record = MessageRecord.get_or_none(MessageRecord.touchpoint == int(value))
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
