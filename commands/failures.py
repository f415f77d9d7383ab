"""`touchlog failures`: the failed folder, one failure, retry."""

from __future__ import annotations

import click

from commands.common import format_option, open_store
from poller.output import print_json, print_table


@click.group(invoke_without_command=True)
@format_option
@click.pass_context
def failures(ctx: click.Context, fmt: str) -> None:
    """The failed folder: what could not be logged, and why.

    \b
    Examples:
      touchlog failures                 # list: UID, date, sender, subject, reason
      touchlog failures show 12         # one failure with its resolution trace
      touchlog failures retry 12 13     # back to the inbox for the next pass
      touchlog failures retry --all
    """
    if ctx.invoked_subcommand is not None:
        return
    from poller.failures import list_failures

    rows = [f.as_json() for f in list_failures(open_store(ctx))]
    if fmt == "json":
        print_json(rows)
        return
    print_table("failed folder", ["uid", "date (UTC)", "sender", "subject", "reason", "detail"],
                [[r["uid"], r["date"], r["sender"], r["subject"], r["reason"], r["detail"]]
                 for r in rows])


@failures.command("show")
@click.argument("uid", type=int)
@format_option
@click.pass_context
def failures_show(ctx: click.Context, uid: int, fmt: str) -> None:
    """One failed message: the reason, the detail and the resolution trace.

    \b
    Examples:
      touchlog failures show 12
      touchlog failures show 12 --format json   # the list's fields, explanation and trace
    """
    from poller.explain import explain as explain_trace
    from poller.failures import find_failure

    failure = find_failure(open_store(ctx), uid)
    trace = failure.record.trace if failure.record is not None and failure.record.trace else {}
    words = explain_trace(trace) if trace else []
    if fmt == "json":
        print_json({**failure.as_json(), "explanation": words, "trace": trace})
        return
    for name, value in failure.as_json().items():
        click.echo(f"{name + ':':<11} {value if value is not None else ''}")
    if words:
        click.echo("trace:")
        for line in words:
            click.echo(f"  {line}")


@failures.command("retry")
@click.argument("uids", type=int, nargs=-1)
@click.option("--all", "retry_all", is_flag=True, help="every message in the failed folder")
@click.pass_context
def failures_retry(ctx: click.Context, uids: tuple[int, ...], retry_all: bool) -> None:
    """Move failed messages back to the inbox; the next pass processes them afresh.

    \b
    Examples:
      touchlog failures retry 12 13
      touchlog failures retry --all
    """
    from poller.failures import retry

    if bool(uids) == retry_all:
        raise click.UsageError("give UIDs or --all")
    moved = retry(open_store(ctx), None if retry_all else list(uids))
    click.echo(f"moved {len(moved)} message(s) back to the inbox for the next pass")
