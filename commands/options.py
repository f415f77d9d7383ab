"""Options the commands that change things share: `--as`, dates, the configured lists."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

import click

from core.errors import TouchlogError
from core.ids import MAX_ID, parse_id
from core.sections import not_one_of
from core.utc import parse_when


class When(click.ParamType):
    """An ISO 8601 date or date-time, as naive UTC (what the database holds). A time without a
    zone is UTC; a date alone is its midnight, or with `end_of_day` its last moment, so
    `--until 2026-11-02` takes in the whole day."""

    name = "date"

    def __init__(self, end_of_day: bool = False) -> None:
        self.end_of_day = end_of_day

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return parse_when(str(value), self.end_of_day)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class Day(click.ParamType):
    """A date alone (a task's due date)."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(f"{value!r} is not a date (2026-11-02)", param, ctx)


class Identifier(click.ParamType):
    """A touchpoint id, task id or UID from the command line: core.ids' one rule (SPEC 20).
    Anything else names nothing, so it is "no such …" and exit 1 like an id that is not there,
    never a usage error nor a number too large for the database."""

    name = "id"

    def __init__(self, what: str) -> None:
        self.what = what

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        found = parse_id(value)
        if found is None:
            raise TouchlogError(f"no {self.what} {value!r}: an id is a whole number from 1 to "
                                f"{MAX_ID}")
        return found


# A count a database can hold (a larger one would overflow its integer, not mean "all").
LIMIT = click.IntRange(min=1, max=MAX_ID)
TOUCHPOINT_ID = Identifier("touchpoint")
TASK_ID = Identifier("task")
UID = Identifier("message with UID")


def as_option(f: Callable) -> Callable:
    return click.option("--as", "as_email", metavar="EMAIL", required=True,
                        help="who makes the change: a team member")(f)


def allowed(value: str | None, choices: Sequence[str], option: str, key: str) -> str | None:
    """A value of a configured list (`touchpoints.types` …); an empty list allows any value."""
    problem = not_one_of(value, choices, key)
    if problem is None:
        return value
    raise click.BadParameter(problem, param_hint=option)


def no_account_option(what: str) -> Callable:
    """`--account` on an edit: the account of a touchpoint never changes (SPEC 13)."""

    def refuse(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
        if value is not None:
            raise click.UsageError(f"the account of a {what} never changes: delete it and add "
                                   "it on the other account", ctx=ctx)

    return click.option("--account", hidden=True, expose_value=False, callback=refuse,
                        is_eager=True)
