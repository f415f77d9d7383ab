"""`touchlog process FILE.eml`: the pipeline on one local file, no IMAP."""

from __future__ import annotations

import json
from pathlib import Path

import click

from commands.common import open_store


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True,
              help="print the decision and everything it would store, write nothing")
@click.pass_context
def process(ctx: click.Context, file: Path, dry_run: bool) -> None:
    """Run the whole pipeline on one .eml file, without IMAP.

    \b
    Example:
      touchlog process customer-mail.eml --dry-run
    """
    from poller.decide.explain import explain
    from poller.decide.pipeline import decide
    from poller.decide.reading import Context, Source
    from poller.decide.records import as_json
    from poller.decide.verdict import Replay
    from poller.passes.commit import commit

    settings = open_store(ctx)
    # A local file has no mailbox to answer: the failure is recorded, no notice is queued.
    source = Source(mailbox=f"file:{file.name}", notices=False)
    verdict = decide(file.read_bytes(), Context(settings), source)
    # Stored before anything is printed: a disk that refuses it is the one line said.
    outcome = None if dry_run else commit(verdict)
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
    if outcome is None:
        click.echo("would store:" if not isinstance(verdict, Replay) else
                   "would store nothing: the database already holds this message")
        click.echo(json.dumps(as_json(verdict), indent=2, ensure_ascii=False, default=str))
        click.echo("dry run: nothing written")
        return
    suffix = f" as touchpoint {outcome.touchpoint_id}" if outcome.touchpoint_id else ""
    click.echo(f"recorded: {outcome.outcome}{suffix}")
