"""Progress of a long import: a rich bar on a terminal, a plain line now and then otherwise.

Small files (the usual team.csv) say nothing; a million-row users.csv shows it is alive.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

Progress = Callable[[int, int], None]
"""Called with (rows done, rows in the file)."""

QUIET_BELOW = 10_000


class _Source(Protocol):
    name: str

    def count_rows(self) -> int: ...


class Reporter:
    """Called with the rows done so far; `finish()` once the rows are in the database."""

    def __init__(self, total: int, sink: Progress | None) -> None:
        self.total, self.sink = total, sink

    def __call__(self, done: int) -> None:
        if self.sink is not None:
            self.sink(done, self.total)

    def finish(self) -> None:
        self(self.total)


@contextmanager
def progress_for(src: _Source, progress: Progress | None) -> Iterator[Reporter]:
    """`progress` when given, else rich on a terminal or plain lines on stderr (large files)."""
    total = src.count_rows()
    if progress is not None or total < QUIET_BELOW:
        yield Reporter(total, progress)
    elif sys.stderr.isatty():
        with _rich_bar(src.name, total) as sink:
            yield Reporter(total, sink)
    else:
        yield Reporter(total, _plain_lines(src.name, total))


@contextmanager
def _rich_bar(name: str, total: int) -> Iterator[Progress]:
    from rich.progress import Progress as RichProgress

    with RichProgress(transient=False) as bar:
        task = bar.add_task(f"importing {name}", total=total)
        yield lambda done, _total: bar.update(task, completed=done)


def _plain_lines(name: str, total: int) -> Progress:
    step = max(total // 10, 1)
    printed = [0]

    def report(done: int, _total: int) -> None:
        # A line per tenth: enough for a log file, not a flood.
        if done - printed[0] >= step or (done == total and printed[0] != total):
            printed[0] = done
            print(f"progress: {name}: {done:,}/{total:,} rows", file=sys.stderr, flush=True)

    return report
