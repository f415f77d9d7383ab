"""`touchlog poll`: one pass, or passes on the schedule until a signal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from commands.common import open_store, settings_of
from commands.output import progress_reporter, say
from core.errors import ConfigError
from core.settings import Settings

if TYPE_CHECKING:
    from poller.passes.scheduler import Job


@click.command()
@click.option("--once", is_flag=True, help="one pass over the inbox, then exit")
@click.pass_context
def poll(ctx: click.Context, once: bool) -> None:
    """Poll the mailbox: log, skip or fail every message in it.

    \b
    Examples:
      touchlog poll --once   # one pass (cron), prints counts per outcome
      touchlog poll          # every schedule.interval_seconds until stopped
    """
    from poller.passes.poll import poll_once
    from poller.passes.scheduler import Poller, StopOnSignal

    trust = settings_of(ctx).trust
    if trust.require == "aligned" and not trust.authserv_ids:  # SPEC 20
        from commands.checks.parts import trust_refusal

        # Before the database opens: nothing is touched, no run recorded.
        raise ConfigError(trust_refusal(settings_of(ctx)))
    settings = open_store(ctx)
    if once:
        # SIGTERM/SIGINT: the message in hand is finished, what is committed moved, the run
        # recorded as stopped, the summary printed; then 143/130 as shells expect.
        with StopOnSignal() as stop, progress_reporter("messages") as progress:
            report = poll_once(settings, should_stop=stop.is_set, progress=progress)
        say(report.summary())
        for error in report.errors:
            say(f"error: {error}", err=True)
        if stop.is_set():
            ctx.exit(stop.exit_status)
        return

    def run_pass(should_stop: Callable[[], bool]) -> None:
        report = poll_once(settings, should_stop=should_stop)
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
        say(f"{stamp} {report.summary()}")
        for error in report.errors:
            say(f"{stamp} error: {error}", err=True)

    say(f"polling {settings.mailbox.host} every {settings.schedule.interval_seconds}s; "
               "Ctrl-C or SIGTERM stops after the message in hand", err=True)
    Poller(settings, run_pass, _sync_jobs(settings)).run_until_signal()


def _sync_jobs(settings: Settings) -> tuple[Job, ...]:
    """With salesforce.enabled, a sync run every salesforce.interval_seconds as well."""
    sf = settings.salesforce
    if not sf.enabled:
        return ()

    def run_sync(_should_stop: Callable[[], bool]) -> None:
        from sync.run import SalesforceSync, SyncBusy

        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
        try:
            report = SalesforceSync(settings).run("both")
        except SyncBusy as exc:
            say(f"{stamp} salesforce: {exc}")
            return
        say(f"{stamp} salesforce: {'; '.join(report.lines())}")

    say(f"syncing with Salesforce every {sf.interval_seconds}s", err=True)
    return (("salesforce", sf.interval_seconds, run_sync),)
