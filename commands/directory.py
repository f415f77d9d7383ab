"""`touchlog import`: the directory from CSV files."""

from __future__ import annotations

from pathlib import Path

import click

from commands.common import open_store
from commands.output import progress_reporter, say
from store.directory.csvfile import ImportOptions, ImportReport


@click.command("import")
@click.argument("kind", type=click.Choice(["accounts", "users", "team"]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True,
              help="make the directory exactly the file: whoever the file leaves out is removed")
@click.option("--dry-run", is_flag=True, help="say what would be added, changed and removed; "
                                              "write nothing")
@click.pass_context
def import_(ctx: click.Context, kind: str, file: Path, replace: bool, dry_run: bool) -> None:
    """Add or update the directory from a CSV file (UTF-8, comma-separated, header row first;
    columns in any order, [optional] ones may be left out and keep what is stored).

    \b
    accounts.csv  account_id,name,[parent_id],[email_domains],[default_bcc],
                  [contact_matches_only]
                  email_domains separated by ";", flags true/false
    users.csv     email,account_id,[last_activity]
                  one row per person and account; ISO 8601 date or datetime
    team.csv      email,[name],[role],[aliases]
                  role user or admin; aliases separated by ";"

    Every wrong row is reported and nothing is imported. With --replace, an account, a
    contact's account or a team member the file leaves out is removed (removed accounts keep
    their timeline).

    \b
    Examples:
      touchlog import accounts accounts.csv
      touchlog import users users.csv
      touchlog import team team.csv --replace --dry-run
    """
    from store.directory.import_accounts import import_accounts
    from store.directory.import_team import import_team
    from store.directory.import_users import import_users

    t = open_store(ctx).touchpoints
    options = ImportOptions(replace=replace, dry_run=dry_run,
                            case_sensitive_local_part=t.case_sensitive_local_part,
                            plus_addresses=t.plus_addresses)
    importer = {"accounts": import_accounts, "users": import_users, "team": import_team}[kind]
    with progress_reporter(f"import {kind}") as progress:
        report = importer(file, progress=progress, options=options)
    for line in report_lines(report):
        say(line)
    for warning in report.warnings:
        say(f"warning: {warning}", err=True)
    if report.more_warnings:
        say(f"warning: ... and {report.more_warnings} more", err=True)


def report_lines(r: ImportReport) -> list[str]:
    """`users: 4 rows: 1 added, 1 changed, 2 unchanged, 3 removed`, then who, by kind."""
    counts = f"{r.added} added, {r.changed} changed, {r.unchanged} unchanged"
    counts += f", {r.removed} removed" if r.removed else ""
    lines = [f"{r.kind}: {r.rows} rows: {counts}"]
    for what in ("added", "changed", "removed"):
        shown = r.examples.get(what, [])
        if shown:
            rest = getattr(r, what) - len(shown)
            lines.append(f"  {what}: {', '.join(shown)}" + (f" and {rest} more" if rest else ""))
    if r.dry_run:
        lines.append("dry run: nothing was written")
    return lines
