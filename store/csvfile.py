"""What every CSV import shares: a file with a required header read row by row (each row with
the line it ends on, for errors), dates as naive UTC, the report, and the progress callback.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from poller.errors import ConfigError
from poller.utc import naive_utc

Progress = Callable[[int, int], None]
"""Called with (rows done, rows in the file); the command line decides how to show it."""


@dataclass(frozen=True)
class ImportReport:
    kind: str  # accounts | users | team
    rows: int
    created: int
    updated: int


@dataclass(frozen=True)
class Row:
    """One data row: its line number (for errors) and its cells by column name."""

    line: int
    cells: dict[str, str]


class CsvFile:
    """A CSV file with a required header; rows come with the line they end on."""

    def __init__(self, path: str | Path, required: tuple[str, ...],
                 optional: tuple[str, ...]) -> None:
        self.path = Path(path)
        self.name = self.path.name
        self.required, self.optional = required, optional

    def error(self, line: int, message: str) -> ConfigError:
        return ConfigError(f"{self.name} line {line}: {message}")

    def count_rows(self) -> int:
        """A quick line count, only to size the progress bar."""
        with self.path.open("rb") as f:
            return max(sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
                       - 1, 0)

    def rows(self) -> Iterator[Row]:
        try:
            # utf-8-sig: spreadsheets put a byte-order mark before the header.
            with self.path.open(encoding="utf-8-sig", newline="") as f:
                reader = csv.reader(f)
                columns = self._columns(next(reader, None))
                for cells in reader:
                    if any(c.strip() for c in cells):
                        yield Row(reader.line_num, self._cells(reader.line_num, columns, cells))
        except FileNotFoundError:
            raise ConfigError(f"{self.path}: file not found") from None
        except (UnicodeDecodeError, csv.Error) as exc:
            raise ConfigError(f"{self.name}: cannot read as UTF-8 CSV: {exc}") from None

    def _columns(self, header: list[str] | None) -> list[str]:
        expected = ",".join(self.required + self.optional)
        if header is None:
            raise self.error(1, f"empty file; a header row is required: {expected}")
        columns = [c.strip().lower() for c in header]
        for column in columns:
            if column not in self.required + self.optional or columns.count(column) > 1:
                raise self.error(1, f"unexpected column {column!r} (the header is {expected})")
        missing = [c for c in self.required if c not in columns]
        if missing:
            raise self.error(1, f"missing column {missing[0]!r} (the header is {expected})")
        return columns

    def _cells(self, line: int, columns: list[str], cells: list[str]) -> dict[str, str]:
        if len(cells) > len(columns):
            raise self.error(line, f"{len(cells)} fields but the header has {len(columns)}")
        # A short row is a row whose trailing empty cells were left off.
        return {col: (cells[i].strip() if i < len(cells) else "") for i, col in enumerate(columns)}


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
def progress_for(src: CsvFile, progress: Progress | None) -> Iterator[Reporter]:
    """Reports to `progress`; without one, an import is quiet (the caller shows nothing)."""
    # Counting the lines costs a read of the file: only when someone is listening.
    yield Reporter(src.count_rows() if progress is not None else 0, progress)


def parse_when(src: CsvFile, line: int, column: str, text: str) -> datetime | None:
    """ISO 8601 date or datetime → naive UTC (a date is its midnight UTC)."""
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise src.error(line, f"{column} {text!r} is not an ISO 8601 date or datetime") from None
    return naive_utc(when)
