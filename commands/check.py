"""`touchlog check`: settings, IMAP, folders, database, SMTP, one line each."""

from __future__ import annotations

import click

from commands.common import settings_of
from poller.errors import TouchlogError


@click.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Check settings, IMAP login and folders, the database and SMTP, one line each.

    \b
    Examples:
      touchlog check
      TOUCHLOG_CONFIG=/etc/touchlog/settings.toml touchlog check
    """
    from poller.health import run_checks

    try:
        settings = settings_of(ctx)
    except TouchlogError as exc:
        click.echo(f"settings  FAIL  {exc}")
        ctx.exit(1)
    ok = True
    for name, passed, text in run_checks(settings):
        click.echo(f"{name:<9} {'ok  ' if passed else 'FAIL'}  {text}")
        ok = ok and passed
    if not ok:
        ctx.exit(1)
