"""What every CSV import shares: a file with a required header read row by row (each row with
the line it ends on, for errors), every wrong row collected before anything is written, dates
as naive UTC, what the import did, and the progress callback.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from core.errors import ConfigError
from core.utc import naive_utc

Progress = Callable[[int, int], None]
"""Called with (rows done, rows in the file); the command line decides how to show it."""

# Wrong rows and warnings shown at most; the rest are counted. Enough to see a pattern (every
# row of one account, a column shifted), short enough for a terminal.
MAX_SHOWN = 20
EXAMPLES = 5  # ids named per kind of change ("removed: bob@ourco.com, ..."), the rest counted
T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True)
class ImportOptions:
    """How an import treats the directory: upsert (the default) or `replace` it by the file;
    `dry_run` does the whole import and rolls it back, so the report is exact."""

    replace: bool = False
    dry_run: bool = False
    # From [touchpoints]: how addresses will be compared, so a row that can never match (or
    # two spellings of one person) is pointed out now.
    case_sensitive_local_part: bool = False
    plus_addresses: str = "reject"


UPSERT = ImportOptions()  # the default: what the file names is added or updated, nothing removed


@dataclass
class ImportReport:
    """What an import did (or, with dry_run, would do): counted, with the first few named."""

    kind: str  # accounts | users | team
    rows: int = 0
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    dry_run: bool = False
    examples: dict[str, list[str]] = field(default_factory=dict)  # added|changed|removed → ids
    warnings: list[str] = field(default_factory=list)
    more_warnings: int = 0

    def note(self, what: str, ids: Iterable[str]) -> None:
        """Count `ids` as added, changed or removed, keeping the first few to show."""
        ids = list(ids)
        setattr(self, what, getattr(self, what) + len(ids))
        shown = self.examples.setdefault(what, [])
        shown.extend(ids[:EXAMPLES - len(shown)])


@dataclass(frozen=True)
class Row:
    """One data row: its line number (for errors) and its cells by column name."""

    line: int
    cells: dict[str, str]


class RowProblem(ConfigError):
    """What is wrong with one row; collected, so every wrong row is reported at once."""

    def __init__(self, name: str, line: int, message: str) -> None:
        super().__init__(f"{name} line {line}: {message}")
        self.line, self.message = line, message


class CsvFile:
    """A CSV file with a required header; rows come with the line they end on.

    Row checks raise `error(...)`; `checked()` collects those instead of stopping, and
    `raise_problems()` reports them all (nothing is imported when any row is wrong).
    """

    def __init__(self, path: str | Path, required: tuple[str, ...],
                 optional: tuple[str, ...]) -> None:
        self.path = Path(path)
        self.name = self.path.name
        self.required, self.optional = required, optional
        self.columns: list[str] = []
        self.problems: list[RowProblem] = []
        self.more_problems = 0
        self.report: ImportReport | None = None

    def error(self, line: int, message: str) -> RowProblem:
        return RowProblem(self.name, line, message)

    def warn(self, line: int, message: str) -> None:
        """A row that imports but will not do what its writer expects (a + address)."""
        if self.report is None:
            return
        if len(self.report.warnings) < MAX_SHOWN:
            self.report.warnings.append(f"{self.name} line {line}: {message}")
        else:
            self.report.more_warnings += 1

    def problem(self, problem: RowProblem) -> None:
        if len(self.problems) < MAX_SHOWN:
            self.problems.append(problem)
        else:
            self.more_problems += 1

    def checked(self, items: Iterable[T], check: Callable[[T], U]) -> Iterator[U]:
        """check(item) for each item; a wrong one is noted and left out."""
        for item in items:
            try:
                yield check(item)
            except RowProblem as exc:
                self.problem(exc)

    def raise_problems(self) -> None:
        """One error listing every wrong row (the first MAX_SHOWN, and how many more)."""
        if not self.problems:
            return
        problems = sorted(self.problems, key=lambda p: p.line)
        if len(problems) == 1 and not self.more_problems:
            raise ConfigError(str(problems[0]))
        count = len(problems) + self.more_problems
        lines = [f"{self.name}: {count} wrong rows, nothing was imported:"]
        lines += [f"  line {p.line}: {p.message}" for p in problems]
        if self.more_problems:
            lines.append(f"  ... and {self.more_problems} more")
        raise ConfigError("\n".join(lines))

    def count_rows(self) -> int:
        """A quick line count, only to size the progress bar."""
        with self.path.open("rb") as f:
            return max(sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
                       - 1, 0)

    def rows(self) -> Iterator[Row]:
        """Every data row; a row with the wrong number of fields is a problem, not a row."""
        try:
            # utf-8-sig: spreadsheets put a byte-order mark before the header.
            with self.path.open(encoding="utf-8-sig", newline="") as f:
                reader = csv.reader(f)
                self.columns = self._columns(next(reader, None))
                for cells in reader:
                    if any(c.strip() for c in cells):
                        try:
                            yield Row(reader.line_num, self._cells(reader.line_num, cells))
                        except RowProblem as exc:
                            self.problem(exc)
        except FileNotFoundError:
            raise ConfigError(f"{self.path}: file not found") from None
        except UnicodeDecodeError:
            raise self._not_utf8() from None
        except csv.Error as exc:
            raise ConfigError(f"{self.name}: not a readable CSV file: {exc}") from None

    def _not_utf8(self) -> ConfigError:
        """The line of the first byte that is not UTF-8, and the likely cause: found by a second
        read, so the usual (valid) file pays nothing for it."""
        with self.path.open("rb") as f:
            for number, raw in enumerate(f, start=1):
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    bad = raw[exc.start:exc.start + 1].hex()
                    near = raw[max(exc.start - 12, 0):exc.start + 12].decode("cp1252", "replace")
                    return ConfigError(
                        f"{self.name} line {number}: not UTF-8 (byte 0x{bad} in "
                        f"{near.strip()!r}); the file looks like Latin-1/Windows-1252: save it "
                        "as UTF-8 (Excel: \"CSV UTF-8\"; or iconv -f latin1 -t utf-8)")
        return ConfigError(f"{self.name}: not UTF-8")

    def _columns(self, header: list[str] | None) -> list[str]:
        expected = ",".join(self.required + self.optional)
        if header is None:
            raise ConfigError(f"{self.name} line 1: empty file; a header row is required: "
                              f"{expected}")
        columns = [c.strip().lower() for c in header]
        if len(columns) == 1 and ";" in columns[0]:
            raise ConfigError(f"{self.name} line 1: the columns are separated by ';', touchlog "
                              f"reads comma-separated files (the header is {expected}); save "
                              "it as CSV with commas (Excel: \"CSV UTF-8 (Comma delimited)\")")
        for column in columns:
            if column not in self.required + self.optional or columns.count(column) > 1:
                raise ConfigError(f"{self.name} line 1: unexpected column {column!r} "
                                  f"(the header is {expected})")
        missing = [c for c in self.required if c not in columns]
        if missing:
            raise ConfigError(f"{self.name} line 1: missing column {missing[0]!r} "
                              f"(the header is {expected})")
        return columns

    def _cells(self, line: int, cells: list[str]) -> dict[str, str]:
        # A row with fewer fields is as suspect as one with more: a cell went missing, and
        # the ones after it would land in the wrong columns.
        if len(cells) != len(self.columns):
            raise self.error(line, f"{len(cells)} fields but the header has "
                                   f"{len(self.columns)} ({','.join(self.columns)})")
        return {col: cells[i].strip() for i, col in enumerate(self.columns)}


@contextmanager
def writing(options: ImportOptions) -> Iterator[None]:
    """One transaction for the whole import; a dry run rolls it back once it has been done."""
    from store.models import database

    with database.atomic() as txn:
        yield
        if options.dry_run:
            txn.rollback()


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
