"""How the command line shows things: JSON, tables, plain lines and fields, and progress that
suits cron. Every stored value goes through here, shown as text (core.text)."""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import click

from core.text import json_safe, shown


def print_json(rows: list[dict[str, Any]] | dict[str, Any]) -> None:
    """A list command's rows, or one object (explain, failures show, touchpoints show): the
    stored values exactly, with every control character escaped, so that no ESC or bidi
    override reaches the terminal and `json.loads` gives the stored value back."""
    click.echo(json_safe(json.dumps(rows, indent=2, ensure_ascii=False, default=str)))


def say(text: object = "", err: bool = False) -> None:
    """A plain line (or lines) of a command's output, stored text shown as text (core.text)."""
    click.echo(shown(str(text)), err=err)


def print_fields(fields: list[tuple[str, Any]]) -> None:
    """`name: value` lines, values in one column; a long value wraps under itself at the
    asked width (as tables do) and a value's own line breaks stay under it too, so no stored
    text can pass for another field."""
    room = _asked_width()
    pad = max(len(name) for name, _ in fields) + 2
    for name, value in fields:
        text = shown("" if value is None else str(value)).replace("\t", " ")
        lines = wrap(text, max(room - pad, 20)) if room is not None else text.split("\n")
        say("\n".join(f"{(name + ':') if i == 0 else '':<{pad}}{line}".rstrip()
                       for i, line in enumerate(lines or [""])))


def print_lines(lines: Iterable[str], indent: str = "") -> None:
    """Sentences (a trace in words), each after `indent`; at the asked width a long one wraps,
    its next lines two spaces further in."""
    room = _asked_width()
    for line in lines:
        text = shown(line)
        parts = wrap(text, max(room - len(indent) - 2, 20)) if room is not None else [text]
        say("\n".join(indent + ("  " if i else "") + part for i, part in enumerate(parts)))


def print_text(text: str) -> None:
    """A block of stored text (a touchpoint's content), its lines wrapped at the asked width."""
    room = _asked_width()
    cleaned = shown(text)
    say("\n".join(wrap(cleaned, room, keep_spaces=True)) if room is not None else cleaned)


# A table is an overview: a longer value is cut there (JSON and `show` give it whole). A
# 100 KB subject would otherwise be thousands of lines of one row.
MAX_CELL_CHARS = 1000
# Ids and dates are never broken across lines, whatever the room (bounded: a stored run of
# digits must not widen a table past the terminal).
_WHOLE = re.compile(r"[0-9]{1,19}|[0-9]{4}-[0-9]{2}-[0-9]{2}"
                    r"(?:T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?Z?)?")
# A word longer than its column breaks after one of these when it can (an address at its @).
_BREAK_AFTER = "@.-_/,;:+=&?"
# A text column is readable down to this width; an optional column is left out before a text
# column has to become narrower. Below _NARROWEST, a column gives no more room.
READABLE = 10
_NARROWEST = 6


def print_table(title: str, columns: list[str], rows: list[list[Any]],
                optional: Sequence[str] = ()) -> None:
    """A table as wide as the terminal (or `--width`) allows; off a terminal (cron, a pipe,
    less) as wide as the rows need, every column. Text wraps between words, a word longer
    than its column breaks (after an @ or a dot when it can); ids and dates stay whole. When
    the text columns would become narrower than READABLE, the `optional` columns are left out,
    in their order, and a last line names them. Cells are text, never markup, and stored text
    is shown as text (core.text)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    room = _asked_width()
    cells = [[_cell(value) for value in row] for row in rows]
    keep = fitting_columns(columns, cells, room, optional)
    columns, cells = [columns[i] for i in keep], [[row[i] for i in keep] for row in cells]
    widths = column_widths(columns, cells, room)
    wrapped = [[wrap(cell, width) for cell, width in zip(row, widths, strict=True)]
               for row in cells]
    # Rows of several lines read apart only with a rule between them.
    table = Table(title=Text(title), show_lines=any(len(c) > 1 for row in wrapped for c in row))
    for column, width in zip(columns, widths, strict=True):
        table.add_column(Text("\n".join(wrap(column, width))), width=width, no_wrap=True,
                         overflow="fold")
    for row in wrapped:
        table.add_row(*(Text("\n".join(lines)) for lines in row))
    Console(width=_table_width(widths), soft_wrap=False).print(table)
    left_out = [name for name in optional if name not in columns]
    if left_out and room is not None:
        say("\n".join(wrap(f"not shown at this width: {', '.join(left_out)} "
                           "(--format json has them)", room)))


def _cell(value: Any) -> str:
    text = shown("" if value is None else str(value)).replace("\t", " ")
    if len(text) > MAX_CELL_CHARS:
        more = len(text) - MAX_CELL_CHARS
        text = f"{text[:MAX_CELL_CHARS]}… ({more} more characters)"
    return text


def _table_width(widths: list[int]) -> int:
    """Borders and padding: 3 characters a column and 1 to close."""
    return sum(widths) + 3 * len(widths) + 1


@dataclass(frozen=True)
class _Measure:
    natural: int  # the longest line
    whole: int  # the longest id or date, which never breaks
    word: int  # the longest word


def _measure(columns: list[str], cells: list[list[str]]) -> list[_Measure]:
    from rich.cells import cell_len

    found = []
    for i, header in enumerate(columns):
        texts = [header, *(row[i] for row in cells)]
        found.append(_Measure(
            natural=max(cell_len(line) for text in texts for line in text.split("\n")),
            whole=max([1] + [cell_len(w) for row in cells for w in row[i].split()
                             if _WHOLE.fullmatch(w)]),
            word=max(cell_len(w) for text in texts for w in text.split() or [""])))
    return found


def fitting_columns(columns: list[str], cells: list[list[str]], room: int | None,
                    optional: Sequence[str]) -> list[int]:
    """The columns shown: all of them, but for the `optional` ones (left out in their order)
    while the table cannot fit `room` with every text column READABLE wide."""
    keep = list(range(len(columns)))
    if room is None:
        return keep
    sizes = _measure(columns, cells)
    for name in optional:
        least = [max(sizes[i].whole, min(sizes[i].natural, READABLE)) for i in keep]
        if _table_width(least) <= room:
            break
        keep.remove(columns.index(name))
    return keep


def column_widths(columns: list[str], cells: list[list[str]], room: int | None) -> list[int]:
    """Each column as wide as its longest line. With too little room, the widest column that
    still can gives way: first down to its longest word, then (words breaking) to READABLE,
    then to _NARROWEST, never below its longest id or date. Only when those alone are too
    wide is the table wider than `room`."""
    sizes = _measure(columns, cells)
    widths = [size.natural for size in sizes]
    if room is None:
        return widths
    for least in (lambda s: s.word, lambda s: READABLE, lambda s: _NARROWEST):
        _give_way(widths, [max(s.whole, min(s.natural, least(s))) for s in sizes], room)
    return widths


def _give_way(widths: list[int], floors: list[int], room: int) -> None:
    """Narrow the widest column above its floor, a character at a time, until the table fits
    `room`."""
    over = _table_width(widths) - room
    while over > 0:
        give = [i for i in range(len(widths)) if widths[i] > floors[i]]
        if not give:
            return
        widest = max(give, key=lambda i: widths[i])
        widths[widest] -= 1
        over -= 1


def wrap(text: str, width: int, keep_spaces: bool = False) -> list[str]:
    """`text` in lines of at most `width` cells: broken between words, a longer word after an
    @, a dot … when it can, else where it must; an id or a date is never broken. Its own line
    breaks are kept; `keep_spaces` keeps the spaces a line begins with (indented text)."""
    from rich.cells import cell_len

    lines: list[str] = []
    for paragraph in text.split("\n"):
        indent = paragraph[:len(paragraph) - len(paragraph.lstrip(" "))] if keep_spaces else ""
        if cell_len(paragraph) <= width:
            lines.append(paragraph if keep_spaces else " ".join(paragraph.split()))
            continue
        line = indent
        for word in paragraph.split():
            joined = f"{line} {word}" if line.strip() else line + word
            if cell_len(joined) <= width:
                line = joined
                continue
            if line.strip():
                lines.append(line)
            line = ""
            cut = _cut(word, width)
            while cut < len(word) and not _WHOLE.fullmatch(word):
                lines.append(word[:cut])
                word = word[cut:]
                cut = _cut(word, width)
            line = word
        lines.append(line)
    return lines


def _cut(word: str, width: int) -> int:
    """How much of `word` goes on a line: the most that fits in `width` cells, back to just
    after an @, a dot … or before an escape (core.text) past its first third when there is one;
    never nothing."""
    from rich.cells import get_character_cell_size

    fits, used = 0, 0
    for char in word:
        used += get_character_cell_size(char)
        if used > width:
            break
        fits += 1
    if fits == len(word):
        return fits
    for at in range(fits, fits // 3, -1):
        if word[at - 1] in _BREAK_AFTER or word[at] == "\\":
            return at
    return max(fits, 1)


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
