"""touchlog's command line: parses, calls, renders. No business logic lives here.

Exit status: 0 done (even when some messages failed), 1 configuration, connection or database
error (one line, no traceback), 2 usage error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import peewee

from poller.errors import TouchlogError
from poller.output import print_json, print_table, progress_reporter
from poller.settings import Settings, config_path, load_settings


class TouchlogGroup(click.Group):
    """Turns every TouchlogError into one line on stderr and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TouchlogError as exc:
            click.echo(f"touchlog: {exc}", err=True)
            ctx.exit(1)
        except peewee.PeeweeException as exc:
            # A database that refuses a statement (disk full, a lost server): still one line.
            click.echo(f"touchlog: database: {' '.join(str(exc).split())}", err=True)
            ctx.exit(1)


@click.group(cls=TouchlogGroup)
@click.option("--config", "config", metavar="PATH", envvar="TOUCHLOG_CONFIG",
              help="settings file (default ./settings.toml, or $TOUCHLOG_CONFIG)")
@click.option("-v", "--verbose", count=True, help="log more (-v info, -vv debug)")
@click.version_option(package_name="touchlog")
@click.pass_context
def main(ctx: click.Context, config: str | None, verbose: int) -> None:
    """touchlog turns mail sent to a shared mailbox into customer touchpoints.

    \b
    Example:
      touchlog --config /etc/touchlog/settings.toml poll --once
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx.obj = {"config": config}


def settings_of(ctx: click.Context) -> Settings:
    obj = ctx.find_root().obj
    if "settings" not in obj:
        obj["settings"] = load_settings(config_path(obj["config"]))
    return obj["settings"]


def open_store(ctx: click.Context) -> Settings:
    from store.db import open_database

    settings = settings_of(ctx)
    open_database(settings.database_url())
    return settings


def format_option(f: Callable) -> Callable:
    return click.option("--format", "fmt", type=click.Choice(["table", "json"]),
                        default="table", show_default=True, help="output format")(f)


# --- poll --------------------------------------------------------------------------------------


@main.command()
@click.option("--once", is_flag=True, help="one pass over the inbox, then exit")
@click.pass_context
def poll(ctx: click.Context, once: bool) -> None:
    """Poll the mailbox: log, skip or fail every message in it.

    \b
    Examples:
      touchlog poll --once     # one pass (cron), prints counts per outcome
      touchlog poll            # every schedule.interval_seconds until SIGINT/SIGTERM
    """
    from poller.poll import poll_once
    from poller.scheduler import Poller

    settings = open_store(ctx)
    if once:
        with progress_reporter("messages") as progress:
            report = poll_once(settings, progress=progress)
        click.echo(report.summary())
        for error in report.errors:
            click.echo(f"error: {error}", err=True)
        return

    def run_pass(should_stop: Callable[[], bool]) -> None:
        report = poll_once(settings, should_stop=should_stop)
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
        click.echo(f"{stamp} {report.summary()}")
        for error in report.errors:
            click.echo(f"{stamp} error: {error}", err=True)

    click.echo(f"polling {settings.mailbox.host} every {settings.schedule.interval_seconds}s; "
               "Ctrl-C or SIGTERM stops after the message in hand", err=True)
    Poller(settings, run_pass).run_until_signal()


# --- process / explain -------------------------------------------------------------------------


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="print the decision, write nothing")
@click.pass_context
def process(ctx: click.Context, file: Path, dry_run: bool) -> None:
    """Run the whole pipeline on one .eml file, without IMAP.

    \b
    Example:
      touchlog process customer-mail.eml --dry-run
    """
    from poller.pipeline import Context, Source, commit, decide
    from poller.resolve import explain

    settings = open_store(ctx)
    pipeline_ctx = Context(settings)
    source = Source(mailbox=f"file:{file.name}")
    verdict = decide(file.read_bytes(), pipeline_ctx, source)
    scenario = verdict.understanding.scenario if verdict.understanding else None
    account = verdict.decision.account_id if verdict.decision else None
    click.echo(f"key:      {verdict.key}")
    click.echo(f"outcome:  {verdict.outcome} ({verdict.reason})")
    click.echo(f"scenario: {scenario or '-'}")
    click.echo(f"account:  {account or '-'}")
    if verdict.detail:
        click.echo(f"detail:   {verdict.detail}")
    for line in explain(verdict.trace) if verdict.trace else []:
        click.echo(f"  {line}")
    if dry_run:
        click.echo("dry run: nothing written")
        return
    # A local file has no mailbox to answer: the failure is recorded, no notice is queued.
    outcome = commit(verdict, pipeline_ctx, source, notify=False)
    suffix = f" as touchpoint {outcome.touchpoint_id}" if outcome.touchpoint_id else ""
    click.echo(f"recorded: {outcome.outcome}{suffix}")


@main.command()
@click.argument("key_or_id")
@click.pass_context
def explain(ctx: click.Context, key_or_id: str) -> None:
    """Say in words why a message went where it did.

    \b
    Examples:
      touchlog explain 42                      # a touchpoint id
      touchlog explain CAF=abc@mail.gmail.com  # a message key or Message-ID
    """
    from poller.resolve import explain as explain_trace
    from store.ledger import find_by_key_or_touchpoint

    open_store(ctx)
    record = find_by_key_or_touchpoint(key_or_id)
    if record is None:
        raise TouchlogError(f"no message or touchpoint {key_or_id!r} in the database")
    click.echo(f"message {record.key}: {record.outcome} ({record.reason})")
    if record.subject or record.sender:
        click.echo(f"from {record.sender or '?'}: {record.subject or '(no subject)'}")
    if record.touchpoint_id:
        click.echo(f"touchpoint {record.touchpoint_id} on account "
                   f"{record.touchpoint.account_id}")
    if record.detail:
        click.echo(record.detail)
    for line in explain_trace(record.trace) if record.trace else []:
        click.echo(f"  {line}")


# --- the timeline and the failed folder --------------------------------------------------------


@main.command()
@click.option("--account", "account_id", metavar="ID", help="only this account's timeline")
@click.option("--limit", type=click.IntRange(min=1), help="at most N touchpoints")
@format_option
@click.pass_context
def touchpoints(ctx: click.Context, account_id: str | None, limit: int | None, fmt: str) -> None:
    """The timeline, newest first.

    \b
    Example:
      touchlog touchpoints --account ACME --limit 10 --format json
    """
    from store.touchpoints import as_json, timeline

    open_store(ctx)
    rows = [as_json(tp) for tp in timeline(account_id, limit)]
    if fmt == "json":
        print_json(rows)
        return
    print_table("touchpoints", ["id", "occurred (UTC)", "account", "creator", "subject", "rule",
                                "scenario", "participants"],
                [[r["id"], r["occurred_at"], r["account_id"], r["creator"], r["subject"],
                  r["rule"], r["scenario"], ", ".join(p["email"] for p in r["participants"])]
                 for r in rows])


@main.group(invoke_without_command=True)
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
@click.pass_context
def failures_show(ctx: click.Context, uid: int) -> None:
    """One failed message: the reason, the detail and the resolution trace."""
    from poller.failures import find_failure
    from poller.resolve import explain as explain_trace

    failure = find_failure(open_store(ctx), uid)
    for name, value in failure.as_json().items():
        click.echo(f"{name + ':':<11} {value if value is not None else ''}")
    if failure.record is not None and failure.record.trace:
        click.echo("trace:")
        for line in explain_trace(failure.record.trace):
            click.echo(f"  {line}")


@failures.command("retry")
@click.argument("uids", type=int, nargs=-1)
@click.option("--all", "retry_all", is_flag=True, help="every message in the failed folder")
@click.pass_context
def failures_retry(ctx: click.Context, uids: tuple[int, ...], retry_all: bool) -> None:
    """Move failed messages back to the inbox; the next pass processes them afresh."""
    from poller.failures import retry

    if bool(uids) == retry_all:
        raise click.UsageError("give UIDs or --all")
    moved = retry(open_store(ctx), None if retry_all else list(uids))
    click.echo(f"moved {len(moved)} message(s) back to the inbox for the next pass")


# --- runs, import, check -----------------------------------------------------------------------


@main.command()
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@format_option
@click.pass_context
def runs(ctx: click.Context, limit: int, fmt: str) -> None:
    """Recent poll passes: when, the counts per outcome, errors."""
    from store.ledger import recent_runs
    from store.touchpoints import iso_utc

    open_store(ctx)
    rows = [{"id": r.id, "started_at": iso_utc(r.started_at),
             "finished_at": iso_utc(r.finished_at), "status": r.status, "counts": r.counts,
             "errors": r.errors} for r in recent_runs(limit)]
    if fmt == "json":
        print_json(rows)
        return
    print_table("runs", ["id", "started (UTC)", "finished (UTC)", "status", "counts", "errors"],
                [[r["id"], r["started_at"], r["finished_at"], r["status"],
                  ", ".join(f"{k} {v}" for k, v in r["counts"].items() if ":" not in k),
                  "; ".join(r["errors"])] for r in rows])


@main.command("import")
@click.argument("kind", type=click.Choice(["accounts", "users", "team"]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def import_(ctx: click.Context, kind: str, file: Path) -> None:
    """Upsert the directory from a CSV file (SPEC section 10 formats).

    \b
    Examples:
      touchlog import accounts accounts.csv
      touchlog import users users.csv
      touchlog import team team.csv
    """
    from store import directory

    open_store(ctx)
    importer = {"accounts": directory.import_accounts, "users": directory.import_users,
                "team": directory.import_team}[kind]
    with progress_reporter(f"import {kind}") as progress:
        report = importer(file, progress=progress)
    click.echo(f"{kind}: {report.rows} rows, {report.created} created, {report.updated} updated")


@main.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Check settings, IMAP login and folders, the database and SMTP, one line each."""
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


if __name__ == "__main__":
    main()
