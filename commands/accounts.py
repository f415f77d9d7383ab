"""`touchlog accounts`: each account's last touch, touches and internal notes."""

from __future__ import annotations

import click

from commands.common import format_option, open_store
from commands.output import print_json, print_table


@click.command()
@click.option("--account", "account_id", metavar="ID", help="only this account")
@format_option
@click.pass_context
def accounts(ctx: click.Context, account_id: str | None, fmt: str) -> None:
    """Each account: its last touch, its touches and its internal notes (notes are no touch:
    they count apart and move neither of the other two).

    \b
    Examples:
      touchlog accounts
      touchlog accounts --account ACME --format json
    """
    from store.directory.lookups import require_account
    from store.timeline.accounts import summary

    open_store(ctx)
    if account_id is not None:
        require_account(account_id)
    rows = summary(account_id)
    if fmt == "json":
        print_json(rows)
        return
    print_table("accounts", ["account_id", "name", "last touch (UTC)", "touches", "notes"],
                [[r["account_id"], r["name"], r["last_touch"], r["touches"], r["notes"]]
                 for r in rows], optional=["notes", "touches"])
