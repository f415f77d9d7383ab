"""What the ledger adds up to, for `/metrics` and `/runs` (SPEC 21): messages by outcome and
reason, notices by status, when the last pass ran, and what became of a pass's notices (`touchlog
runs`' notices column)."""

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


# What became of the notices a pass handled, each counted once, in the order they are told.
# `failed` in a run's counts is tries that failed (those notices stay pending): told with
# the pending ones, never added to them ("failed 3, pending 3" were three notices, not six).
_FATES = ("sent", "suppressed", "cancelled", "withdrawn", "undeliverable", "pending")


def notice_counts(counts: dict[str, int]) -> dict[str, int]:
    """A run's notice counts by what became of them, plus `tries_failed`."""
    found = {name: counts.get(f"notices:{name}", 0) for name in _FATES}
    found["tries_failed"] = counts.get("notices:failed", 0)
    return found


def notices_text(found: dict[str, int]) -> str:
    """`sent 2, suppressed 1, cancelled 1, pending 3 (3 tries failed)`"""
    parts = [f"{name} {found[name]}" for name in _FATES if found.get(name)]
    if found.get("tries_failed"):
        tries = found["tries_failed"]
        note = f"{tries} {'try' if tries == 1 else 'tries'} failed"
        parts = [f"{p} ({note})" if p.startswith("pending ") else p for p in parts] \
            if found.get("pending") else [*parts, note]
    return ", ".join(parts)
