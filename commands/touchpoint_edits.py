"""`touchlog touchpoints add|edit|delete`: touchpoints people manage by hand (SPEC 13)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from commands.common import open_store
from commands.options import TOUCHPOINT_ID, When, as_option, no_account_option
from commands.output import say
from core.errors import TouchlogError
from core.settings import Settings

if TYPE_CHECKING:
    from poller.notify.copies import Copy
    from store.models import TeamMember
    from store.timeline.manage import Changes

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command("add")
@click.option("--account", "account_id", metavar="ID", required=True)
@as_option
@click.option("--type", "type_", metavar="TYPE", required=True,
              help="one of touchpoints.types (internal_note is not a customer touch)")
@click.option("--date", "when", type=When(), help="when it happened (default: now), UTC")
@click.option("--subject", default="")
@click.option("--content", help="the text")
@click.option("--content-file", type=_FILE, help="the text, from a UTF-8 file")
@click.option("--flow", help="default: touchpoints.default_flow")
@click.option("--reason", "reasons", multiple=True, help="repeatable")
@click.option("--participant", "participants", multiple=True, metavar="EMAIL",
              help="repeatable; 'Name <email>' works too")
@click.option("--attach", "attachments", multiple=True, type=_FILE, help="repeatable")
@click.pass_context
def add(ctx: click.Context, account_id: str, as_email: str, type_: str, when: datetime | None,
        subject: str, content: str | None, content_file: Path | None, flow: str | None,
        reasons: tuple[str, ...], participants: tuple[str, ...],
        attachments: tuple[Path, ...]) -> None:
    """Add a touchpoint by hand; prints its id.

    \b
    Examples:
      touchlog touchpoints add --account ACME --as sam@ourco.com \\
          --type telephone_call --subject "Renewal call" \\
          --content "Wile agreed to renew." --participant wile@acme.com \\
          --date 2026-11-02T15:00Z
      touchlog touchpoints add --account ACME --as sam@ourco.com \\
          --type internal_note --content "Champion leaves in January"
    """
    from core.utc import utcnow
    from store.timeline.drafts import Given, check_choices, draft_of
    from store.timeline.manage import add_touchpoint, author, read_files

    settings = open_store(ctx)
    check_choices(settings, type_, flow, reasons)
    member = author(as_email)
    given = Given(type=type_, occurred_at=when, subject=subject,
                  content=_content(content, content_file), flow=flow, reasons=reasons,
                  participants=participants, files=read_files(attachments))
    draft = draft_of(settings, account_id, given, utcnow())
    say(add_touchpoint(draft, member).id)


@click.command("edit")
@click.argument("tp_id", metavar="ID", type=TOUCHPOINT_ID)
@as_option
@click.option("--type", "type_", metavar="TYPE")
@click.option("--date", "when", type=When())
@click.option("--subject")
@click.option("--content")
@click.option("--content-file", type=_FILE)
@click.option("--flow")
@click.option("--reason", "reasons", multiple=True, help="repeatable; replaces the reasons")
@click.option("--add-participant", "added", multiple=True, metavar="E", help="repeatable")
@click.option("--remove-participant", "removed", multiple=True, metavar="E",
              help="repeatable")
@click.option("--notify", type=click.Choice(["none", "new", "all"]), default="none",
              show_default=True, help="mail the edited touchpoint to the added participants "
              "or to all of them")
@click.option("--yes", is_flag=True, help="confirm mailing external participants")
@no_account_option("touchpoint")
@click.pass_context
def edit(ctx: click.Context, tp_id: int, as_email: str, type_: str | None,
         when: datetime | None, subject: str | None, content: str | None,
         content_file: Path | None, flow: str | None, reasons: tuple[str, ...],
         added: tuple[str, ...], removed: tuple[str, ...], notify: str, yes: bool) -> None:
    """Correct a touchpoint (its creator or an admin only); mail-logged ones too.

    \b
    Examples:
      touchlog touchpoints edit 42 --as sam@ourco.com \\
          --subject "Renewal call (signed)"
      touchlog touchpoints edit 42 --as sam@ourco.com \\
          --add-participant road@road.com --notify new --yes
    """
    from commands.touchpoint_send import deliver
    from store.timeline.drafts import Given, changes_of, check_choices
    from store.timeline.manage import author, edit_touchpoint

    settings = open_store(ctx)
    check_choices(settings, type_, flow, reasons)
    member = author(as_email)
    changes = changes_of(settings, Given(
        type=type_, occurred_at=when, subject=subject, content=_content(content, content_file),
        flow=flow, reasons=reasons, participants=added, removed=removed))
    _require_some(changes)
    copies = _confirm_before_edit(settings, tp_id, member, changes, notify, yes) \
        if notify != "none" else []
    result = edit_touchpoint(tp_id, member, changes)
    say(f"touchpoint {tp_id} edited")
    if notify != "none":
        deliver(settings, result.touchpoint, member, copies)


def _confirm_before_edit(settings: Settings, tp_id: int, member: TeamMember, changes: Changes,
                         notify: str, yes: bool) -> list[Copy]:
    """Who gets which copy, asked before anything is written: a refused confirmation leaves
    the touchpoint as it was (and one the member may not edit is refused before anyone is
    asked)."""
    from commands.touchpoint_send import confirm_external
    from poller.notify.copies import copies_for_edit
    from store.timeline.manage import live_touchpoint, require_creator_or_admin

    before = live_touchpoint(tp_id)
    require_creator_or_admin(before, member, "edit")
    copies = copies_for_edit(settings, before, changes, notify)
    confirm_external(copies, yes)
    return copies


def _require_some(changes: Changes) -> None:
    """An edit that changes nothing is a usage error, never a silent "edited"."""
    if changes.empty():
        raise click.UsageError("nothing to change: give at least one of --type, --date, "
                               "--subject, --content, --flow, --reason, --add-participant, "
                               "--remove-participant")


@click.command("delete")
@click.argument("tp_id", metavar="ID", type=TOUCHPOINT_ID)
@as_option
@click.pass_context
def delete(ctx: click.Context, tp_id: int, as_email: str) -> None:
    """Delete a touchpoint (its creator or an admin only): it leaves every list, and `show`
    says who deleted it when.

    \b
    Example:
      touchlog touchpoints delete 42 --as ann@ourco.com
    """
    from store.timeline.manage import author, delete_touchpoint

    open_store(ctx)
    tp = delete_touchpoint(tp_id, author(as_email))
    say(f"touchpoint {tp.id} deleted")


def _content(content: str | None, content_file: Path | None) -> str | None:
    if content is not None and content_file is not None:
        raise click.UsageError("give --content or --content-file, not both")
    if content_file is not None:
        try:
            return content_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TouchlogError(f"--content-file {content_file}: cannot read: {exc}") from None
    return content
