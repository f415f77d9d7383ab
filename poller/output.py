"""How the command line shows things: JSON, rich tables, and progress that suits cron."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click


def print_json(rows: list[dict[str, Any]] | dict[str, Any]) -> None:
    """A list command's rows, or one object (explain, failures show)."""
    click.echo(json.dumps(rows, indent=2, ensure_ascii=False, default=str))


def print_table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    Console(width=max(100, Console().width)).print(table)


@contextmanager
def progress_reporter(label: str) -> Iterator[Callable[[int, int], None]]:
    """A rich bar on a terminal; on cron, a plain line every 10% so logs stay short."""
    if sys.stderr.isatty():
        from rich.console import Console
        from rich.progress import Progress

        # On stderr, like the plain lines: stdout stays the command's result (JSON, counts).
        with Progress(console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task(label, total=None)
            yield lambda done, total: bar.update(task, completed=done, total=total)
        return
    last = [-1]

    def plain(done: int, total: int) -> None:
        step = max(total // 10, 1000)
        if done == total and total >= 1000 or done // step != last[0] // step and done >= step:
            click.echo(f"{label}: {done}/{total}", err=True)
        last[0] = done

    yield plain
