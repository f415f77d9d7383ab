"""How the command line shows things: JSON, rich tables, and progress that suits cron."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click


def print_json(rows: list[dict[str, Any]] | dict[str, Any]) -> None:
    """A list command's rows, or one object (explain, failures show)."""
    click.echo(json.dumps(rows, indent=2, ensure_ascii=False, default=str))


def print_table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    """A table whose cells wrap only between words: a timestamp, an address or a Message-ID
    is never split. As wide as the terminal (or `--width`) allows; off a terminal (cron, a
    pipe, less) as wide as the rows need."""
    from rich.console import Console
    from rich.table import Table

    cells = [["" if v is None else str(v) for v in row] for row in rows]
    widths = column_widths(columns, cells, _asked_width())
    table = Table(title=title, show_lines=False)
    for column, width in zip(columns, widths, strict=True):
        table.add_column(column, overflow="fold", width=width)
    for row in cells:
        table.add_row(*row)
    # Borders and padding: 3 characters a column and 1 to close.
    Console(width=sum(widths) + 3 * len(widths) + 1, soft_wrap=False).print(table)


def column_widths(columns: list[str], cells: list[list[str]], room: int | None) -> list[int]:
    """Each column as wide as its longest cell; with too little room, the widest column that
    still can gives way, never below its longest word (the table is then wider than `room`)."""
    def longest(i: int, unit: Callable[[str], list[str]]) -> int:
        return max([len(columns[i])] + [len(part) for row in cells for part in unit(row[i])])

    widths = [longest(i, lambda cell: cell.splitlines() or [""]) for i in range(len(columns))]
    floors = [longest(i, str.split) for i in range(len(columns))]
    if room is None:
        return widths
    while sum(widths) + 3 * len(widths) + 1 > room:
        give = [i for i in range(len(widths)) if widths[i] > floors[i]]
        if not give:
            break
        widest = max(give, key=lambda i: widths[i])
        widths[widest] -= 1
    return widths


def _asked_width() -> int | None:
    """`--width`, else the terminal's width when stdout is one, else no limit (None)."""
    ctx = click.get_current_context(silent=True)
    width = ctx.find_root().params.get("width") if ctx is not None else None
    if width:
        return int(width)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


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
        # The last row and `finish()` both report done == total: print that line once.
        if done == last[0]:
            return
        if done == total and total >= 1000 or done // step != last[0] // step and done >= step:
            click.echo(f"{label}: {done}/{total}", err=True)
        last[0] = done

    yield plain
