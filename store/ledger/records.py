"""One row per message key (what happened to it) and one row per poll pass."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from peewee import IntegrityError

from core.addresses import normalize
from core.message_ids import RAW_KEY_PREFIX, raw_digest
from core.reasons import FAILED
from core.utc import utcnow
from store import compiled
from store.ledger.models import RAW_KEYED, BrokenMessage, MessageRecord, Run
from store.models import database, tuples


def find_record(key: str) -> MessageRecord | None:
    """Asked once per message: compiled once (see store.compiled)."""
    rows = compiled.run(("record_by_key",), lambda: MessageRecord.select(MessageRecord.id)
                        .where(MessageRecord.key == ":key"), {":key": key})
    return MessageRecord.get_by_id(rows[0][0]) if rows else None


def place(key: str, sender: str, raw: bytes) -> tuple[str, MessageRecord | None]:
    """The key a message is recorded under, and what the ledger holds there (SPEC 7, 20).

    `key` is the message's own (its normalized Message-ID, core.message_ids), `sender` its From
    and `raw` its bytes (hashed only when they must be compared). A Message-ID is no
    capability: the record under it belongs to this message only when it has the same author,
    and, when that record is a failure waiting to be retried, the same bytes. Any other message
    with the Message-ID is a different message, recorded under the sha256 of its bytes, so
    nothing another sender writes can make a failed message a duplicate or overwrite its
    record. The answer depends only on
    the message and on records that are never re-keyed, so a message seen again after a crash
    finds the record it committed.
    """
    existing = find_record(key)
    if existing is None or key.startswith(RAW_KEY_PREFIX):
        return key, existing
    digest = ""
    if normalize(existing.sender or "") == normalize(sender or ""):
        # A failure of an older touchlog has no digest: the author is all there is to go by.
        if existing.outcome != FAILED or existing.raw_sha256 is None:
            return key, existing
        digest = raw_digest(raw)
        if existing.raw_sha256 == digest:
            return key, existing
    own = RAW_KEY_PREFIX + (digest or raw_digest(raw))
    return own, find_record(own)


def records_by_message_id(message_ids: Iterable[str]) -> dict[str, MessageRecord]:
    """Records by normalized Message-ID, found through their key (the column keeps the id
    as the mail wrote it)."""
    from core.message_ids import message_key

    keys = {message_key(m, b""): m for m in message_ids if m}
    if not keys:
        return {}
    query = MessageRecord.select().where(MessageRecord.key.in_(list(keys)))
    return {keys[r.key]: r for r in query}


def reused_message_ids(records: Iterable[MessageRecord]) -> set[str]:
    """The Message-IDs (as written) of these records that another record carries too: a twin
    (another author's message, or the same author's with other bytes) was recorded under its
    own bytes (`place`), so which record is whose must be read from the message itself.

    `records` are the ones under their Message-IDs' keys (records_by_message_id): another
    record with the same Message-ID cannot have that key, so it is a twin, and only twins are
    indexed by Message-ID."""
    own = {r.id: r.message_id for r in records if r.message_id}
    if not own:
        return set()
    query = (MessageRecord.select(MessageRecord.message_id).distinct()
             .where(MessageRecord.message_id.in_(list(set(own.values()))), RAW_KEYED,
                    MessageRecord.id.not_in(list(own))))
    return {message_id for (message_id,) in tuples(query)}


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
    existing.processed_at = fields.get("processed_at") or utcnow()
    existing.save()
    return existing


def find_by_key_or_touchpoint(value: str) -> MessageRecord | None:
    """`touchlog explain` takes a message key, a Message-ID (normalized exactly as keys are,
    so any case of the host and the brackets or not all find it) or a touchpoint id."""
    from core.ids import parse_id
    from core.message_ids import message_key, normalize_message_id

    value = value.strip()
    record = find_record(value)
    if record is None and "@" in value:
        record = find_record(message_key(normalize_message_id(value), b""))
    tp_id = parse_id(value)
    if record is None and tp_id is not None:
        record = MessageRecord.get_or_none(MessageRecord.touchpoint == tp_id)
    return record


def start_run(mailbox: str, holder: str, now: datetime) -> Run:
    return Run.create(started_at=now, mailbox=mailbox, holder=holder)


def update_run(run: Run, counts: dict[str, int]) -> None:
    """The counts so far, after every batch: a run whose worker is killed still tells them."""
    Run.update(counts=counts).where(Run.id == run.id).execute()


def finish_run(run: Run, counts: dict[str, int], errors: list[str], status: str,
               now: datetime) -> Run:
    run.finished_at = now
    run.counts = counts
    run.errors = errors
    run.status = status
    run.save()
    return run


def close_dead_runs(mailbox: str, by: Run) -> list[int]:
    """Runs of this mailbox still `running` while we hold its lock: their worker died (kill -9,
    a crash, a power cut) without closing them. Closed as `killed`; their ids."""
    dead = list(Run.select().where((Run.mailbox == mailbox) & (Run.status == "running")
                                   & (Run.id != by.id)))
    for run in dead:
        run.status = "killed"
        run.errors = [*run.errors, f"its worker ({run.holder or 'unknown'}) died without "
                                   f"finishing; closed by run {by.id}"]
        run.save()
    return [run.id for run in dead]


def recent_runs(limit: int = 20) -> list[Run]:
    return list(Run.select().order_by(Run.id.desc()).limit(limit))


def note_broken(key: str, error: str, now: datetime) -> int:
    """Count one more unexpected error on this message; how many there have been."""
    with database.atomic():
        row = BrokenMessage.get_or_none(BrokenMessage.key == key)
        if row is None:
            try:
                with database.atomic():
                    row = BrokenMessage.create(key=key, tries=0, last_at=now)
            except IntegrityError:  # another worker noted it at the same moment
                row = BrokenMessage.get(BrokenMessage.key == key)
        row.tries += 1
        row.last_error = error
        row.last_at = now
        row.save()
        return row.tries


def forget_broken(key: str) -> None:
    """The message has an outcome now: a later retry starts counting afresh."""
    BrokenMessage.delete().where(BrokenMessage.key == key).execute()
