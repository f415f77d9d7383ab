"""Why a touchpoint is where it is, as `touchlog explain` says it and the web's touchpoint page
shows it: the message's record (its key, outcome, sender, subject) and the trace in words, or,
for a touchpoint no mail made, where it came from instead."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.utc import iso_utc
from poller.decide.trace_words import trace_in_words
from store.ledger.models import MessageRecord
from store.models import Touchpoint
from store.timeline.manage import tombstone_line


@dataclass(frozen=True)
class Explained:
    head: list[str]  # what the message was and what became of it
    steps: list[str] = field(default_factory=list)  # the trace, one sentence a step


def record_explanation(record: Any) -> dict[str, Any]:
    """A ledger record as `explain --format json` shows it: the Message-ID as the mail wrote
    it, the outcome, the trace as stored and the trace in words."""
    return {"key": record.key, "message_id": record.message_id, "outcome": record.outcome,
            "reason": record.reason, "detail": record.detail, "sender": record.sender,
            "subject": record.subject, "date": iso_utc(record.date),
            "processed_at": iso_utc(record.processed_at),
            "touchpoint_id": record.touchpoint_id,
            "account_id": record.touchpoint.account_id if record.touchpoint_id else None,
            "explanation": trace_in_words(record.trace) if record.trace else [],
            "trace": record.trace or {}}


def record_head(record: Any, found: dict[str, Any]) -> list[str]:
    """The lines `explain` prints above the trace."""
    lines = [f"message {record.key}: {record.outcome} ({record.reason})"]
    if record.subject or record.sender:
        lines.append(f"from {record.sender or '?'}: {record.subject or '(no subject)'}")
    if record.touchpoint_id:
        lines.append(f"touchpoint {record.touchpoint_id} on account {found['account_id']}")
    if record.detail:
        lines.append(record.detail)
    return lines


def no_message_lines(tp: Touchpoint) -> list[str]:
    """A touchpoint no mail made (added by hand, or from Salesforce) has no resolution trace:
    where it came from instead of a claim that it does not exist."""
    how = "added by hand" if tp.source == "manual" else f"from {tp.source}"
    line = (f"touchpoint {tp.id} on account {tp.account_id} was {how} by "
            f"{tp.creator_email or '?'} at {iso_utc(tp.created_at)}: no mail, so no "
            "resolution trace")
    return [line] + ([tombstone_line(tp)] if tp.deleted_at is not None else [])


def explain_touchpoint(tp: Touchpoint) -> Explained:
    """What `touchlog explain ID` says of touchpoint ID."""
    record = MessageRecord.get_or_none(MessageRecord.touchpoint == tp.id)
    if record is None:
        return Explained(no_message_lines(tp))
    found = record_explanation(record)
    return Explained(record_head(record, found), found["explanation"])
