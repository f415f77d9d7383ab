"""`touchlog explain`: why a message went where it did."""

from __future__ import annotations

import click

from commands.common import open_store
from poller.errors import TouchlogError


@click.command()
@click.argument("key_or_id")
@click.pass_context
def explain(ctx: click.Context, key_or_id: str) -> None:
    """Say in words why a message went where it did.

    \b
    Examples:
      touchlog explain 42                      # a touchpoint id
      touchlog explain CAF=abc@mail.gmail.com  # a message key or Message-ID
    """
    from poller.explain import explain as explain_trace
    from store.ledger import find_by_key_or_touchpoint

    open_store(ctx)
    record = find_by_key_or_touchpoint(key_or_id)
    if record is None:
        raise TouchlogError(f"no message or touchpoint {key_or_id!r} in the database")
    click.echo(f"message {record.key}: {record.outcome} ({record.reason})")
    if record.subject or record.sender:
        click.echo(f"from {record.sender or '?'}: {record.subject or '(no subject)'}")
    if record.touchpoint_id:
        click.echo(f"touchpoint {record.touchpoint_id} on account "
                   f"{record.touchpoint.account_id}")
    if record.detail:
        click.echo(record.detail)
    for line in explain_trace(record.trace) if record.trace else []:
        click.echo(f"  {line}")
