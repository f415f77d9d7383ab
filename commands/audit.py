"""`touchlog audit`: the web app's audit trail (SPEC 21): who read or changed what, when, from
which address."""

from __future__ import annotations

from datetime import datetime

import click

from commands.common import format_option, open_store
from commands.options import When
from commands.output import print_json, print_table


@click.command()
@click.option("--member", metavar="EMAIL", help="only this member's rows (an alias names its "
              "member)")
@click.option("--since", type=When(), metavar="D", help="only rows from this date or time on")
@format_option
@click.pass_context
def audit(ctx: click.Context, member: str | None, since: datetime | None, fmt: str) -> None:
    """The audit trail of the web app, newest first: every page that showed a touchpoint's
    content, a failed message or an attachment, every change, every sign-in and sign-out,
    with the member, the time and the client's address. Objects are named by id, never by
    their text.

    \b
    Examples:
      touchlog audit --since 2026-11-01
      touchlog audit --member sam@ourco.com --format json
    """
    from store.access.audit import entries

    open_store(ctx)
    rows = entries(member=member, since=since)
    if fmt == "json":
        print_json(rows)
        return
    print_table("audit", ["time (UTC)", "member", "action", "object", "client address"],
                [[r["time"], r["member"], r["action"], r["object"], r["client_address"]]
                 for r in rows])
