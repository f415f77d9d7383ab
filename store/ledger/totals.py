"""What the ledger adds up to, for `/metrics` (SPEC 21): messages by outcome and reason,
notices by status, and when the last pass ran."""

from __future__ import annotations

from datetime import datetime

from peewee import fn

from store.ledger.models import MessageRecord, Notice, Run
from store.models import tuples


def messages_by_outcome() -> dict[tuple[str, str], int]:
    """(outcome, reason) → messages; the reason of a logged message is the rule that chose
    its account, of a skipped or failed one its reason code."""
    query = (MessageRecord.select(MessageRecord.outcome, MessageRecord.reason,
                                  fn.COUNT(MessageRecord.id))
             .group_by(MessageRecord.outcome, MessageRecord.reason))
    return {(outcome, reason or ""): count for outcome, reason, count in tuples(query)}


def notices_by_status() -> dict[str, int]:
    query = Notice.select(Notice.status, fn.COUNT(Notice.id)).group_by(Notice.status)
    return {status: count for status, count in tuples(query)}


def last_pass() -> datetime | None:
    """When the newest pass finished (or started, while it runs)."""
    run = Run.select().order_by(Run.id.desc()).first()
    return None if run is None else run.finished_at or run.started_at
