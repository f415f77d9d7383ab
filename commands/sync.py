"""`touchlog sync salesforce` and `touchlog sync status` (SPEC 15)."""

from __future__ import annotations

from typing import Any

import click

from commands.common import format_option, open_store
from poller.output import print_json, print_table

COUNTS = ("created", "updated", "deleted", "skipped", "conflicts", "errors")


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
        click.echo(str(exc))
        return
    for line in report.lines():
        click.echo(line)


@sync.command("status")
@format_option
@click.pass_context
def status(ctx: click.Context, fmt: str) -> None:
    """Per object and direction: watermark, last run, its counts; then the records Salesforce
    refused in the last run, with its code and message.

    \b
    Example:
      touchlog sync status --format json
    """
    from poller.utc import iso_utc
    from sync import state

    open_store(ctx)
    state.ensure_tables()
    run = state.last_run()
    marks = [{"object": m.name.split(" ")[0], "direction": m.name.split(" ")[1],
              "watermark": iso_utc(m.watermark), "last_run": iso_utc(m.last_run_at),
              "status": m.last_status, "counts": m.counts} for m in state.marks()]
    refused = [{"object": e.mark.split(" ")[0], "direction": e.mark.split(" ")[1],
                "local_id": e.local_id, "salesforce_id": e.sf_id, "code": e.code,
                "message": e.message} for e in (state.refusals(run) if run else [])]
    last = None if run is None else {
        "id": run.id, "started_at": iso_utc(run.started_at), "status": run.status,
        "finished_at": iso_utc(run.finished_at), "direction": run.direction,
        "error": run.error, "requests": run.requests}
    if fmt == "json":
        print_json({"marks": marks, "last_run": last, "errors": refused})
        return
    _show(marks, last, refused)


def _show(marks: list[dict[str, Any]], last: dict[str, Any] | None,
          refused: list[dict[str, Any]]) -> None:
    if last is None:
        click.echo("no Salesforce sync has run yet")
        return
    print_table("salesforce sync", ["object", "direction", "watermark (UTC)", "last run (UTC)",
                                    "status", *COUNTS],
                [[m["object"], m["direction"], m["watermark"], m["last_run"], m["status"],
                  *[m["counts"].get(c, 0) for c in COUNTS]] for m in marks])
    if last["error"]:
        click.echo(f"last run stopped: {last['error']}")
    for e in refused:
        click.echo(f"refused: {e['object']} {e['direction']} local {e['local_id']} "
                   f"{e['salesforce_id'] or ''}: {e['code']}: {e['message']}")
