"""`touchlog check`: settings, IMAP, folders, database, SMTP, one line each."""

from __future__ import annotations

import click

from commands.common import settings_of
from commands.output import say
from core.errors import TouchlogError


@click.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Check settings, IMAP login and folders, the database and SMTP, one line each.

    Each line says ok, warn (works, but not safe for production) or FAIL; any FAIL exits 1.

    
    Examples:
      touchlog check
      TOUCHLOG_CONFIG=/etc/touchlog/settings.toml touchlog check
    """
    from commands.check_parts import run_checks

    try:
        settings = settings_of(ctx)
    except TouchlogError as exc:
        say(f"settings  FAIL  {exc}")
        ctx.exit(1)
    failed = False
    # "warn" works but is not how it should run in production: exit 0, the line says why.
    for name, status, text in run_checks(settings):
        say(f"{name:<9} {status:<4}  {text}")
        failed = failed or status == "FAIL"
    if failed:
        ctx.exit(1)
