"""`touchlog explain`: why a message went where it did."""

from __future__ import annotations

from typing import Any

import click

from commands.common import format_option, open_store
from commands.output import print_json, print_lines
from core.errors import TouchlogError
from core.ids import parse_id


@click.command()
@click.argument("key_or_id")
@format_option
@click.pass_context
def explain(ctx: click.Context, key_or_id: str, fmt: str) -> None:
    """Say in words why a message went where it did.

    A Message-ID is found whatever the case of its host, with or without <brackets>.

    \b
    Examples:
      touchlog explain 42                      # a touchpoint id
      touchlog explain CAF=abc@mail.gmail.com  # a message key or Message-ID
      touchlog explain '<CAF=abc@mail.gmail.com>' --format json
    """
    from store.ledger.records import find_by_key_or_touchpoint

    open_store(ctx)
    record = find_by_key_or_touchpoint(key_or_id)
    if record is None:
        _no_message(key_or_id, fmt)
        return
    found = explanation(record)
    if fmt == "json":
        print_json(found)
        return
    lines = [f"message {record.key}: {record.outcome} ({record.reason})"]
    if record.subject or record.sender:
        lines.append(f"from {record.sender or '?'}: {record.subject or '(no subject)'}")
    if record.touchpoint_id:
        lines.append(f"touchpoint {record.touchpoint_id} on account {found['account_id']}")
    if record.detail:
        lines.append(record.detail)
    print_lines(lines)
    print_lines(found["explanation"], "  ")


def explanation(record: Any) -> dict[str, Any]:
    """A ledger record as `explain --format json` shows it: the Message-ID as the mail wrote
    it, the outcome, the trace as stored and the trace in words."""
    from core.utc import iso_utc
    from poller.decide.trace_words import trace_in_words

    return {"key": record.key, "message_id": record.message_id, "outcome": record.outcome,
            "reason": record.reason, "detail": record.detail, "sender": record.sender,
            "subject": record.subject, "date": iso_utc(record.date),
            "processed_at": iso_utc(record.processed_at),
            "touchpoint_id": record.touchpoint_id,
            "account_id": record.touchpoint.account_id if record.touchpoint_id else None,
            "explanation": trace_in_words(record.trace) if record.trace else [],
            "trace": record.trace or {}}


def _no_message(key_or_id: str, fmt: str) -> None:
    """A touchpoint no mail made (added by hand, or from Salesforce) has no resolution trace:
    say where it came from instead of claiming it does not exist."""
    from core.utc import iso_utc
    from store.models import Touchpoint
    from store.timeline.manage import tombstone_line

    tp_id = parse_id(key_or_id.strip())
    tp = Touchpoint.get_or_none(Touchpoint.id == tp_id) if tp_id is not None else None
    if tp is None:
        raise TouchlogError(f"no message or touchpoint {key_or_id!r} in the database")
    how = "added by hand" if tp.source == "manual" else f"from {tp.source}"
    line = (f"touchpoint {tp.id} on account {tp.account_id} was {how} by "
            f"{tp.creator_email or '?'} at {iso_utc(tp.created_at)}: no mail, so no "
            "resolution trace")
    lines = [line] + ([tombstone_line(tp)] if tp.deleted_at is not None else [])
    if fmt == "json":
        print_json({"key": None, "message_id": None, "outcome": None, "reason": None,
                    "detail": None, "sender": tp.creator_email, "subject": None,
                    "date": None, "processed_at": None, "touchpoint_id": tp.id,
                    "account_id": tp.account_id, "source": tp.source,
                    "explanation": lines, "trace": {}})
        return
    print_lines(lines)
