"""`touchlog touchpoints send`: mail a copy of a touchpoint to its participants (SPEC 14)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from commands.common import open_store
from commands.options import TOUCHPOINT_ID, as_option
from commands.output import say
from core.errors import TouchlogError
from core.settings import Settings
from core.text import shown

if TYPE_CHECKING:  # the copies module (SMTP, the thread tokens) only when something is sent
    from poller.notify.copies import Copy


@click.command("send")
@click.argument("tp_id", metavar="ID", type=TOUCHPOINT_ID)
@as_option
@click.option("--to", "audiences", multiple=True, required=True,
              type=click.Choice(["internal", "external", "me"]),
              help="repeatable: internal participants, external participants, yourself")
@click.option("--yes", is_flag=True, help="confirm mailing external participants")
@click.pass_context
def send(ctx: click.Context, tp_id: int, as_email: str, audiences: tuple[str, ...],
         yes: bool) -> None:
    """Mail a copy of a touchpoint; replies to it join its thread.

    Internal copies begin with the account's name, id and last touch. Mailing external
    participants asks first; without a terminal it needs --yes (else exit 2, nothing sent).

    \b
    Examples:
      touchlog touchpoints send 42 --as sam@ourco.com --to internal --to me
      touchlog touchpoints send 42 --as sam@ourco.com --to external --yes
    """
    from poller.notify.copies import copies_to
    from store.timeline.manage import author, live_touchpoint

    settings = open_store(ctx)
    member = author(as_email)
    tp = live_touchpoint(tp_id)
    copies = copies_to(settings, tp, member, audiences)
    confirm_external(copies, yes)
    deliver(settings, tp, member, copies)


def confirm_external(copies: Sequence[Copy], yes: bool) -> None:
    """Customers get mail only when someone said so: --yes, or yes on a terminal."""
    recipients = [r for c in copies if c.audience == "external" for r in c.recipients]
    if not recipients or yes:
        return
    who = shown(", ".join(recipients))
    if not sys.stdin.isatty():
        raise click.UsageError(f"mailing external participants ({who}) needs --yes: there is "
                               "no terminal to ask on; nothing was sent")
    if not click.confirm(f"Mail this touchpoint to {len(recipients)} external "
                         f"participant(s): {who}?", default=False):
        raise TouchlogError("not confirmed: nothing was sent")


def deliver(settings: Settings, tp: Any, member: Any, copies: Sequence[Copy]) -> None:
    """Send the copies and say what went where."""
    from poller.notify.copies import send_copies

    if not copies:
        say("nobody to mail")
        return
    for copy in send_copies(settings, tp, member, copies):
        say(f"mailed touchpoint {tp.id} to {copy.audience}: {', '.join(copy.recipients)}")
