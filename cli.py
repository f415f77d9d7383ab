"""touchlog's command line: parses, calls, renders. No business logic lives here.

Exit status: 0 done (even when some messages failed), 1 configuration, connection or database
error (one line, no traceback), 2 usage error.
"""

from __future__ import annotations

import atexit
import importlib
import logging
import os
import sys
import threading
from typing import Any

import click
import peewee

from core.errors import FieldError, TouchlogError
from core.text import shown


class TouchlogGroup(click.Group):
    """Turns every TouchlogError into one line on stderr and exit status 1, and imports a
    command's module when the command is asked for (COMMANDS)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in COMMANDS:
            module, _, attr = COMMANDS[name].partition(":")
            self.add_command(getattr(importlib.import_module(module), attr), name)
        command = self.commands.get(name)
        return _config_anywhere(command) if command is not None else None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FieldError as exc:  # a value given for an option: a usage error (exit 2)
            raise click.BadParameter(shown(exc.problem),
                                     param_hint="--" + exc.field.replace("_", "-")) from None
        except TouchlogError as exc:
            click.echo(f"touchlog: {shown(str(exc))}", err=True)
            ctx.exit(1)
        except peewee.PeeweeException as exc:
            # A database that refuses a statement (disk full, read-only, a lost server): still
            # one line, naming the cause rather than the failed rollback it surfaced as.
            from store.db import database_error

            click.echo(f"touchlog: {shown(str(database_error('', exc)))}", err=True)
            ctx.exit(1)


@click.group(cls=TouchlogGroup)
@click.option("--config", "config", metavar="PATH", envvar="TOUCHLOG_CONFIG",
              help="settings file (default ./settings.toml, or $TOUCHLOG_CONFIG)")
@click.option("-v", "--verbose", count=True, help="log more (-v info, -vv debug)")
@click.option("--width", type=click.IntRange(min=20), metavar="COLUMNS",
              help="table width (default: the terminal's; off a terminal, as wide as needed)")
@click.version_option(package_name="touchlog")
@click.pass_context
def main(ctx: click.Context, config: str | None, verbose: int, width: int | None) -> None:
    """touchlog turns mail sent to a shared mailbox into customer touchpoints.

    \b
    Example:
      touchlog --config /etc/touchlog/settings.toml poll --once
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx.obj = {"config": config, "width": width}


def _config_anywhere(command: click.Command) -> click.Command:
    """`--config` after the command too (`touchlog poll --once --config x.toml`), on every
    command and subcommand: where a user puts it, it is the settings file."""
    if not any(param.name == "config" for param in command.params):
        command.params.append(click.Option(
            ["--config"], metavar="PATH", expose_value=False, callback=_later_config,
            help="settings file (as `touchlog --config PATH`)"))
    for sub in getattr(command, "commands", {}).values():
        _config_anywhere(sub)
    return command


def _later_config(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.find_root().obj["config"] = value


# Each group of commands lives in its own module under commands/, named for what it does, and is
# imported only when it runs: cron's `poll --once` on an empty inbox must not pay for the
# timeline, the Salesforce sync or the CSV imports (issue 10: an empty pass in < 0.25 s).
COMMANDS = {"poll": "commands.poll:poll", "process": "commands.process:process",
            "explain": "commands.explain:explain", "touchpoints": "commands.timeline:touchpoints",
            "accounts": "commands.accounts:accounts", "tasks": "commands.tasks:tasks",
            "failures": "commands.failures:failures", "runs": "commands.runs:runs",
            "import": "commands.directory:import_", "check": "commands.check:check",
            "keys": "commands.keys:keys", "sync": "commands.sync:sync",
            "serve": "commands.serve:serve", "audit": "commands.audit:audit"}


def run() -> None:
    """The `touchlog` command: main(), then a quick exit. Once a command has finished, its
    atexit handlers have run, its output is flushed and its database is closed, tearing the
    interpreter down only frees memory the system frees anyway: ~30 ms of an empty
    `poll --once`, 0.2 s in all (issue 10). With a thread still running, the normal exit waits
    for it."""
    try:
        main()
        status: str | int | None = 0
    except SystemExit as exc:
        status = exc.code
    if threading.active_count() > 1 or not _closed_database():
        sys.exit(status)
    if isinstance(status, str):  # what sys.exit would print
        click.echo(status, err=True)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`): nothing more to say
            pass
    os._exit(status if isinstance(status, int) else 0 if status is None else 1)


def _closed_database() -> bool:
    """Close the store if a command opened it (the last SQLite connection's close checkpoints
    the WAL and removes it; PostgreSQL sees a clean goodbye). False if it would not close."""
    models = sys.modules.get("store.models")
    database = getattr(models, "database", None)
    if database is None or database.obj is None or database.is_closed():
        return True
    try:
        database.close()
    except peewee.PeeweeException:
        return False
    return True


if __name__ == "__main__":
    run()
