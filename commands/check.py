"""`touchlog check`: settings, IMAP, folders, database, SMTP, one line each."""

from __future__ import annotations

import shutil
import sys
import textwrap

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
    from commands.checks.parts import run_checks

    try:
        settings = settings_of(ctx)
    except TouchlogError as exc:
        say(row("settings", "FAIL", str(exc)))
        ctx.exit(1)
    failed = False
    # "warn" works but is not how it should run in production: exit 0, the line says why.
    for name, status, text in run_checks(settings):
        say(row(name, status, text))
        failed = failed or status == "FAIL"
    if failed:
        ctx.exit(1)


NAME_WIDTH = len("salesforce")  # the longest part's name: every status starts in one column


def row(name: str, status: str, text: str) -> str:
    """One part's line; at an asked width (a terminal, `--width`) its text wraps under itself."""
    head = f"{name:<{NAME_WIDTH}} {status:<4}  "
    width = _width()
    if width is None or len(head) + len(text) <= width:
        return head + text
    return textwrap.fill(text, width, initial_indent=head, subsequent_indent=" " * len(head),
                         break_long_words=False, break_on_hyphens=False)


def _width() -> int | None:
    ctx = click.get_current_context(silent=True)
    asked = ctx.find_root().params.get("width") if ctx is not None else None
    if asked:
        return int(asked)
    return shutil.get_terminal_size().columns if sys.stdout.isatty() else None
