"""`touchlog import`: the directory from CSV files."""

from __future__ import annotations

from pathlib import Path

import click

from commands.common import open_store
from poller.output import progress_reporter


@click.command("import")
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
    from store.import_team import import_team
    from store.imports import import_accounts, import_users

    open_store(ctx)
    importer = {"accounts": import_accounts, "users": import_users, "team": import_team}[kind]
    with progress_reporter(f"import {kind}") as progress:
        report = importer(file, progress=progress)
    click.echo(f"{kind}: {report.rows} rows, {report.created} created, {report.updated} updated")
