"""`touchlog tasks`: follow-ups — list, add, edit, delete, done (SPEC 13, 18)."""

from __future__ import annotations

from datetime import date

import click

from commands.common import format_option, open_store
from commands.options import TASK_ID, Day, allowed, as_option
from commands.output import print_json, print_table, say
from core.settings import Settings

_PRIORITY = click.Choice(["High", "Normal", "Low"])
_STATUS = click.Choice(["Open", "Completed"])


@click.group(invoke_without_command=True)
@click.option("--account", "account_id", metavar="ID", help="only this account's tasks")
@click.option("--assignee", metavar="EMAIL", help="only the tasks assigned to this member")
@click.option("--status", type=_STATUS, help="only open or only completed tasks")
@format_option
@click.pass_context
def tasks(ctx: click.Context, account_id: str | None, assignee: str | None,
          status: str | None, fmt: str) -> None:
    """The tasks (follow-ups), the soonest due first; and the commands that change them.

    \b
    Examples:
      touchlog tasks --account ACME --status Open
      touchlog tasks --assignee sam@ourco.com --format json
    """
    if ctx.invoked_subcommand is not None:
        return
    from store.directory.lookups import require_account
    from store.timeline.tasks import as_json
    from store.timeline.tasks import tasks as live_tasks

    open_store(ctx)
    if account_id is not None:
        require_account(account_id)
    rows = [as_json(t) for t in live_tasks(account_id, assignee, status)]
    if fmt == "json":
        print_json(rows)
        return
    print_table("tasks", ["id", "account", "title", "priority", "status", "due", "assignee",
                          "assigner", "flow"],
                [[r["id"], r["account_id"], r["title"], r["priority"], r["status"],
                  r["due_date"], r["assignee"], r["assigner"], r["flow"]] for r in rows],
                optional=["flow", "assigner", "priority", "assignee", "account"])


@tasks.command("add")
@click.option("--account", "account_id", metavar="ID", required=True)
@as_option
@click.option("--title", required=True)
@click.option("--description", default="")
@click.option("--priority", type=_PRIORITY, default="Normal", show_default=True)
@click.option("--due", type=Day(), help="the due date")
@click.option("--assign", metavar="EMAIL", help="the team member who does it (default: you)")
@click.option("--flow", help="the flow of the task and of its follow-up touchpoint")
@click.pass_context
def add(ctx: click.Context, account_id: str, as_email: str, title: str, description: str,
        priority: str, due: date | None, assign: str | None, flow: str | None) -> None:
    """Add a task; prints its id.

    \b
    Example:
      touchlog tasks add --account ACME --as sam@ourco.com \\
          --title "Send the renewal quote" --due 2026-11-20 --priority High \\
          --assign ann@ourco.com
    """
    from store.directory.lookups import require_account
    from store.timeline.manage import author
    from store.timeline.tasks import TaskFields, add_task

    settings = open_store(ctx)
    _check_flow(settings, flow)
    member = author(as_email)
    require_account(account_id, live=True)
    fields = TaskFields(title=title, description=description, priority=priority, due_date=due,
                        assignee=author(assign, "--assign") if assign else None, flow=flow)
    say(add_task(account_id, member, fields).id)


@tasks.command("edit")
@click.argument("task_id", metavar="ID", type=TASK_ID)
@as_option
@click.option("--title")
@click.option("--description")
@click.option("--priority", type=_PRIORITY)
@click.option("--status", type=_STATUS)
@click.option("--due", type=Day())
@click.option("--assign", metavar="EMAIL")
@click.option("--flow")
@click.pass_context
def edit(ctx: click.Context, task_id: int, as_email: str, title: str | None,
         description: str | None, priority: str | None, status: str | None,
         due: date | None, assign: str | None, flow: str | None) -> None:
    """Change a task (its assigner, its assignee or an admin).

    \b
    Example:
      touchlog tasks edit 7 --as sam@ourco.com --due 2026-11-27 --priority Normal
    """
    from store.timeline.manage import author
    from store.timeline.tasks import TaskFields, edit_task

    settings = open_store(ctx)
    _check_flow(settings, flow)
    member = author(as_email)
    fields = TaskFields(title=title, description=description, priority=priority,
                        status=status, due_date=due,
                        assignee=author(assign, "--assign") if assign else None, flow=flow)
    if fields.empty():
        raise click.UsageError("nothing to change: give at least one of --title, "
                               "--description, --priority, --status, --due, --assign, --flow")
    edit_task(task_id, member, fields)
    say(f"task {task_id} edited")


@tasks.command("delete")
@click.argument("task_id", metavar="ID", type=TASK_ID)
@as_option
@click.pass_context
def delete(ctx: click.Context, task_id: int, as_email: str) -> None:
    """Delete a task (its assigner, its assignee or an admin).

    \b
    Example:
      touchlog tasks delete 7 --as ann@ourco.com
    """
    from store.timeline.manage import author
    from store.timeline.tasks import delete_task

    open_store(ctx)
    delete_task(task_id, author(as_email))
    say(f"task {task_id} deleted")


@tasks.command("done")
@click.argument("task_id", metavar="ID", type=TASK_ID)
@as_option
@click.option("--touchpoint", "subject", metavar="SUBJECT",
              help="also add a follow-up touchpoint with this subject, in the task's flow")
@click.option("--type", "type_", metavar="TYPE",
              help="the follow-up's type (default: the first of touchpoints.types)")
@click.option("--content", help="the follow-up's text (default: the task's description)")
@click.pass_context
def done(ctx: click.Context, task_id: int, as_email: str, subject: str | None,
         type_: str | None, content: str | None) -> None:
    """Complete a task, optionally adding its follow-up touchpoint.

    \b
    Example:
      touchlog tasks done 7 --as sam@ourco.com --touchpoint "Quote sent" \\
          --type email
    """
    from store.timeline.manage import author
    from store.timeline.tasks import complete_with_followup

    settings = open_store(ctx)
    t = settings.touchpoints
    allowed(type_, t.types, "--type", "touchpoints.types")
    task, tp = complete_with_followup(task_id, author(as_email), subject,
                                      type_ or t.types[0], content, t.default_flow)
    say(f"task {task.id} completed"
               + (f"; follow-up touchpoint {tp.id} on {task.account_id}" if tp else ""))


def _check_flow(settings: Settings, flow: str | None) -> None:
    allowed(flow, settings.touchpoints.flows, "--flow", "touchpoints.flows")
