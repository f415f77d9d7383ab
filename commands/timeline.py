"""`touchlog touchpoints`: the timeline, filtered, and one touchpoint whole (`show`). The commands
that change touchpoints live in commands/touchpoint_edits.py and commands/touchpoint_send.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from commands.common import format_option, open_store
from commands.options import LIMIT, TOUCHPOINT_ID, When
from commands.output import print_fields, print_json, print_table, print_text, say
from commands.touchpoint_edits import add, delete, edit
from commands.touchpoint_send import send


@click.group(invoke_without_command=True)
@click.option("--account", "account_id", metavar="ID", help="only this account's timeline")
@click.option("--type", "type_", metavar="TYPE", help="only touchpoints of this type")
@click.option("--flow", metavar="FLOW", help="only touchpoints of this flow")
@click.option("--notes/--no-notes", default=None,
              help="internal notes only / no internal notes (default: both)")
@click.option("--since", type=When(), help="occurred on or after this date (UTC)")
@click.option("--until", type=When(end_of_day=True), help="occurred on or before this date")
@click.option("--limit", type=LIMIT, help="at most N touchpoints")
@format_option
@click.pass_context
def touchpoints(ctx: click.Context, account_id: str | None, type_: str | None,
                flow: str | None, notes: bool | None, since: datetime | None,
                until: datetime | None, limit: int | None, fmt: str) -> None:
    """The timeline, newest first; and the commands that add, correct, delete and send
    touchpoints.

    \b
    Examples:
      touchlog touchpoints --account ACME --limit 10 --format json
      touchlog touchpoints --account ACME --no-notes --since 2026-11-01
      touchlog touchpoints --notes                      # internal notes only
    """
    if ctx.invoked_subcommand is not None:
        return
    from store.directory.lookups import require_account
    from store.timeline.drafts import check_filter
    from store.timeline.touchpoints import Filter, as_json, timeline

    settings = open_store(ctx)
    if account_id is not None:
        require_account(account_id)
    where = Filter(account_id=account_id, type=type_, flow=flow, notes=notes, since=since,
                   until=until, limit=limit)
    check_filter(settings, where)
    rows = [as_json(tp) for tp in timeline(where=where)]
    if fmt == "json":
        print_json(rows)
        return
    print_table("touchpoints", ["id", "occurred (UTC)", "account", "type", "creator", "subject",
                                "source", "rule", "thread", "participants"],
                [[r["id"], r["occurred_at"], r["account_id"], r["type"], r["creator"],
                  r["subject"], r["source"], r["rule"],
                  "" if r["thread_id"] == r["id"] else r["thread_id"],
                  ", ".join(p["email"] for p in r["participants"])] for r in rows],
                optional=["participants", "thread", "rule", "source", "creator", "type",
                          "account"])


@touchpoints.command("show")
@click.argument("tp_id", metavar="ID", type=TOUCHPOINT_ID)
@format_option
@click.pass_context
def show(ctx: click.Context, tp_id: int, fmt: str) -> None:
    """One touchpoint whole: fields, participants, attachments, source, thread and replies;
    a deleted one says by whom and when. `--format json` gives one object.

    \b
    Examples:
      touchlog touchpoints show 42
      touchlog touchpoints show 42 --format json
    """
    from store.timeline.manage import find_touchpoint
    from store.timeline.touchpoints import details

    open_store(ctx)
    whole = details(find_touchpoint(tp_id))
    if fmt == "json":
        print_json(whole)
        return
    if whole["deleted_at"]:
        say(f"DELETED by {whole['deleted_by']} at {whole['deleted_at']}")
    print_fields(_show_fields(whole))
    if whole["content"]:
        say()
        print_text(whole["content"])


def _show_fields(tp: dict[str, Any]) -> list[tuple[str, Any]]:
    fields: list[tuple[str, Any]] = []
    for name in ("id", "account_id", "type", "flow", "reasons", "occurred_at", "subject",
                 "creator", "source", "updated_at", "updated_by", "external_id"):
        value = tp[name]
        fields.append((name, ", ".join(value) if isinstance(value, list) else value))
    fields.append(("participants", "\n".join(
        f"{p['email']}" + (f" {p['name']}" if p["name"] else "") + f" ({p['role']})"
        for p in tp["participants"]) or "none"))
    fields.append(("attachments", "\n".join(
        f"{a['filename']} {a['content_type']} {a['size']} bytes sha256 {a['sha256']}"
        for a in tp["attachments"]) or "none"))
    if tp["message_id"] or tp["scenario"]:
        fields.append(("mail", f"Message-ID {tp['message_id'] or '-'}, scenario "
                               f"{tp['scenario'] or '-'}, rule {tp['rule'] or '-'}"))
    fields.append(("thread", f"{tp['thread_id']}"
                   + (f", reply to {tp['parent_id']}" if tp["parent_id"] else "")))
    fields.append(("replies", "\n".join(
        f"{r['id']} {r['occurred_at']} {r['creator']}: {r['subject']}"
        for r in tp["replies"]) or "none"))
    fields += [("sent", f"{m['sent_at']} to {m['audience']} ({', '.join(m['recipients'])}) "
                        f"by {m['sent_by']}") for m in tp["sent"]]
    return fields


for _command in (add, edit, delete, send):
    touchpoints.add_command(_command)
