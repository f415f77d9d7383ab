"""`touchlog explain`: why a message went where it did."""

from __future__ import annotations

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
    from poller.decide.explained import record_explanation, record_head
    from store.ledger.records import find_by_key_or_touchpoint

    open_store(ctx)
    record = find_by_key_or_touchpoint(key_or_id)
    if record is None:
        _no_message(key_or_id, fmt)
        return
    found = record_explanation(record)
    if fmt == "json":
        print_json(found)
        return
    print_lines(record_head(record, found))
    print_lines(found["explanation"], "  ")


def _no_message(key_or_id: str, fmt: str) -> None:
    """A touchpoint no mail made says where it came from (poller.decide.explained)."""
    from poller.decide.explained import no_message_lines
    from store.models import Touchpoint

    tp_id = parse_id(key_or_id.strip())
    tp = Touchpoint.get_or_none(Touchpoint.id == tp_id) if tp_id is not None else None
    if tp is None:
        raise TouchlogError(f"no message or touchpoint {key_or_id!r} in the database")
    lines = no_message_lines(tp)
    if fmt == "json":
        print_json({"key": None, "message_id": None, "outcome": None, "reason": None,
                    "detail": None, "sender": tp.creator_email, "subject": None,
                    "date": None, "processed_at": None, "touchpoint_id": tp.id,
                    "account_id": tp.account_id, "source": tp.source,
                    "explanation": lines, "trace": {}})
        return
    print_lines(lines)
