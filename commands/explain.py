"""`touchlog explain`: why a message went where it did."""

from __future__ import annotations

import click

from commands.common import format_option, open_store
from commands.output import print_json
from core.errors import TouchlogError


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
    for line in record_head(record, found):
        click.echo(line)
    for line in found["explanation"]:
        click.echo(f"  {line}")


def _no_message(key_or_id: str, fmt: str) -> None:
    """A touchpoint no mail made says where it came from (poller.decide.explained)."""
    from poller.decide.explained import no_message_lines
    from store.models import Touchpoint

    tp = (Touchpoint.get_or_none(Touchpoint.id == int(key_or_id))
          if key_or_id.strip().isdigit() else None)
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
    for text in lines:
        click.echo(text)
