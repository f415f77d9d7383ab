"""Writing a verdict (poller.decide.verdict): its attachment files, then its record, touchpoint and
notice in one transaction, so a crash leaves either all of them or none. Nothing is decided here.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from peewee import IntegrityError

from core.reasons import DUPLICATE, SKIPPED
from poller.decide.verdict import Failed, Logged, Outcome, RecordPlan, Replay, Verdict
from poller.notify import notices
from store.ledger import records as ledger
from store.ledger.models import MessageRecord
from store.models import Touchpoint, database
from store.timeline.touchpoints import create_touchpoint, keep_attachment

log = logging.getLogger(__name__)


def commit(v: Verdict, savepoint: Any | None = None) -> Outcome:
    """Write what was decided; the caller moves the message afterwards.

    `savepoint`: the caller's own savepoint for this message (a pass takes one around deciding
    and committing each): the writes go in it, and a key another worker committed first rolls
    it back, where a savepoint of their own would cost two statements more a message."""
    if isinstance(v, Replay):
        return Outcome(v.key, v.outcome, v.reason, v.detail, None, v.keyword,
                       recovered=v.recovered)
    if isinstance(v, Logged):
        # Files first: a crash then leaves at most an unreferenced file, never a touchpoint
        # pointing at nothing.
        for f in v.files:
            keep_attachment(v.attachments_dir, f.sha256, f.data)
    try:
        if savepoint is None:
            with database.atomic():
                tp = _write(v)
        else:
            tp = _write(v)
    except IntegrityError:
        if savepoint is not None:
            savepoint.rollback()
        return taken_by_another_worker(v.key)
    log.info("message %s: %s %s", v.key, v.outcome, v.reason)
    return _outcome(v, tp.id if tp else None)


def _write(v: Verdict) -> Touchpoint | None:
    """The touchpoint, the record and the notice, inside the caller's savepoint."""
    tp = create_touchpoint(v.touchpoint) if isinstance(v, Logged) else None
    record = save_record(v.record, tp)
    if isinstance(v, Failed) and v.notice is not None:
        n = v.notice
        notices.queue_notice(record, n.to_address, n.subject, n.body, n.in_reply_to,
                             kind=n.kind)
    return tp


def save_record(plan: RecordPlan, tp: Touchpoint | None = None,
                processed_at: datetime | None = None) -> MessageRecord:
    """The one writer of a ledger row, inside the caller's transaction."""
    more = {"processed_at": processed_at} if processed_at is not None else {}
    return ledger.save_record(
        plan.replaces, key=plan.key, message_id=plan.message_id, outcome=plan.outcome,
        reason=plan.reason, detail=plan.detail, trace=plan.trace, touchpoint=tp,
        sender=plan.sender, subject=plan.subject, date=plan.date, mailbox=plan.mailbox,
        uid=plan.uid, raw_sha256=plan.raw_sha256, **more)


def taken_by_another_worker(key: str) -> Outcome:
    """Another worker committed this key first (the unique index said so): it owns the
    message now, and moves it."""
    log.info("message %s was committed by another worker", key)
    return Outcome(key, SKIPPED, DUPLICATE, "committed by another worker", movable=False)


def _outcome(v: Verdict, touchpoint_id: int | None) -> Outcome:
    return Outcome(v.key, v.outcome, v.reason, v.detail, touchpoint_id, v.keyword)
