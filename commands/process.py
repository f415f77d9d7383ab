"""`touchlog process FILE.eml`: the pipeline on one local file, no IMAP."""

from __future__ import annotations

from pathlib import Path

import click

from commands.common import open_store
from commands.output import print_json, say


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
    from poller.decide.pipeline import decide
    from poller.decide.reading import Context, Source
    from poller.decide.records import as_json
    from poller.decide.trace_words import trace_in_words
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
    say(f"key:      {verdict.key}")
    say(f"outcome:  {verdict.outcome} ({verdict.reason})")
    say(f"scenario: {scenario or '-'}")
    say(f"account:  {account or '-'}")
    if verdict.detail:
        say(f"detail:   {verdict.detail}")
    for line in trace_in_words(verdict.trace) if verdict.trace else []:
        say(f"  {line}")
    if outcome is None:
        say("would store:" if not isinstance(verdict, Replay) else
                   "would store nothing: the database already holds this message")
        print_json(as_json(verdict))
        say("dry run: nothing written")
        return
    suffix = f" as touchpoint {outcome.touchpoint_id}" if outcome.touchpoint_id else ""
    say(f"recorded: {outcome.outcome}{suffix}")
