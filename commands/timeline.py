"""`touchlog touchpoints`: the timeline."""

from __future__ import annotations

import click

from commands.common import format_option, open_store
from poller.output import print_json, print_table


@click.command()
@click.option("--account", "account_id", metavar="ID", help="only this account's timeline")
@click.option("--limit", type=click.IntRange(min=1), help="at most N touchpoints")
@format_option
@click.pass_context
def touchpoints(ctx: click.Context, account_id: str | None, limit: int | None, fmt: str) -> None:
    """The timeline, newest first.

    \b
    Example:
      touchlog touchpoints --account ACME --limit 10 --format json
    """
    from store.directory import require_account
    from store.touchpoints import as_json, timeline

    open_store(ctx)
    if account_id is not None:
        require_account(account_id)
    rows = [as_json(tp) for tp in timeline(account_id, limit)]
    if fmt == "json":
        print_json(rows)
        return
    print_table("touchpoints", ["id", "occurred (UTC)", "account", "creator", "subject", "rule",
                                "scenario", "participants"],
                [[r["id"], r["occurred_at"], r["account_id"], r["creator"], r["subject"],
                  r["rule"], r["scenario"], ", ".join(p["email"] for p in r["participants"])]
                 for r in rows])
