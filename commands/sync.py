"""`touchlog sync salesforce` and `touchlog sync status` (SPEC 15)."""

from __future__ import annotations

from typing import Any

import click

from commands.common import format_option, open_store
from commands.output import print_json, print_table, say


@click.group()
def sync() -> None:
    """Sync touchpoints and tasks with Salesforce, both ways.

    \b
    Example:
      touchlog sync salesforce            # one run, both directions
      touchlog sync status
    """


@sync.command("salesforce")
@click.option("--direction", type=click.Choice(["in", "out", "both"]), default="both",
              show_default=True, help="in: Salesforce to touchlog; out: touchlog to Salesforce")
@click.option("--full", is_flag=True,
              help="everything, not only what changed since the last run")
@click.option("--dry-run", is_flag=True,
              help="say what would be created, updated, deleted; write nothing anywhere")
@click.pass_context
def salesforce(ctx: click.Context, direction: str, full: bool, dry_run: bool) -> None:
    """One sync run; prints counts per object and direction.

    Exit status 1, with one line, when Salesforce cannot be reached or refuses the session;
    what was committed stays and the next run picks up from there.

    \b
    Example:
      touchlog sync salesforce --direction out --dry-run
      touchlog sync salesforce --full
    """
    from sync.run import SalesforceSync, SyncBusy

    settings = open_store(ctx)
    if not settings.salesforce.enabled:
        raise click.ClickException("salesforce.enabled is false: set it to true in "
                                   "[salesforce] to sync")
    try:
        report = SalesforceSync(settings).run(direction, full=full, dry_run=dry_run)
    except SyncBusy as exc:
        say(str(exc))
        return
    for line in report.lines():
        say(line)


@sync.command("status")
@format_option
@click.pass_context
def status(ctx: click.Context, fmt: str) -> None:
    """Per object and direction: watermark, the last run (when, how it ended, its counts) and
    the records Salesforce refused in it, with its code and message.

    \b
    Example:
      touchlog sync status --format json
    """
    from sync import state

    settings = open_store(ctx)
    state.ensure_tables()
    sf = settings.salesforce
    rows = state.status_rows((sf.touchpoints_object, sf.tasks_object))
    if fmt == "json":
        print_json(rows)
        return
    _show(rows)


def _show(rows: list[dict[str, Any]]) -> None:
    from sync.state import COUNTS

    if not any(r["last_run"] for r in rows):
        say("no Salesforce sync has run yet")
        return
    print_table("salesforce sync", ["object", "direction", "watermark (UTC)", "last run (UTC)",
                                    "status", "counts"],
                [[r["object"], r["direction"], r["watermark"], r["last_run"], r["status"],
                  ", ".join(f"{c} {r['counts'].get(c, 0)}" for c in COUNTS)] for r in rows],
                optional=["watermark (UTC)", "counts"])
    for stopped in dict.fromkeys(r["stopped"] for r in rows if r["stopped"]):
        say(f"last run stopped: {stopped}")
    for r in rows:
        for e in r["errors"]:
            say(f"refused: {r['object']} {r['direction']} local {e['local_id']} "
                f"{e['salesforce_id'] or ''}: {e['code']}: {e['message']}")
