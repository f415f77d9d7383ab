"""The timeline's chart of touches and notes per week (SPEC 21), drawn on the server: the
numbers come from store.timeline.pages.weekly, this module places the bars, and
templates/chart.html writes them as inline SVG. No script, no style attribute (the CSP forbids
both): the colours are classes in touchlog.css. The same numbers are written out as a table and
a sentence for whoever cannot see the picture."""

from __future__ import annotations

from dataclasses import dataclass

from store.timeline.pages import Week

WIDTH, HEIGHT = 680, 190  # the viewBox; the picture scales to its box
LEFT, TOP, BOTTOM = 36, 10, 36  # room for the scale on the left and the dates below
BAR, GAP = 9, 2  # a touches bar and a notes bar side by side in each week's slot


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    height: float
    kind: str  # touches | notes
    label: str  # its tooltip: "week of 2026-10-12: 6 touches"


@dataclass(frozen=True)
class Tick:
    y: float
    value: int


@dataclass(frozen=True)
class DateMark:
    x: float
    text: str


@dataclass(frozen=True)
class Chart:
    weeks: list[Week]
    bars: list[Bar]
    ticks: list[Tick]
    dates: list[DateMark]
    width: int
    height: int
    left: int
    base: float  # the y of the zero line
    summary: str  # the picture in one sentence


def chart_of(weeks: list[Week]) -> Chart:
    plot = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT) / max(len(weeks), 1)
    top = _nice(max([w.touches for w in weeks] + [w.notes for w in weeks] + [1]))
    base = TOP + plot
    bars, dates = [], []
    for i, week in enumerate(weeks):
        x = LEFT + i * slot + (slot - 2 * BAR - GAP) / 2
        for offset, kind, count in ((0, "touches", week.touches),
                                    (BAR + GAP, "notes", week.notes)):
            height = plot * count / top
            noun = _plural(count, "touch", "touches") if kind == "touches" else \
                _plural(count, "note", "notes")
            bars.append(Bar(round(x + offset, 1), round(base - height, 1), round(height, 1),
                            kind, f"week of {week.start.isoformat()}: {noun}"))
        if i % 4 == 0:
            dates.append(DateMark(round(LEFT + i * slot + slot / 2, 1),
                                  f"{week.start:%b} {week.start.day}"))
    ticks = [Tick(round(base - plot * v / top, 1), v) for v in (0, top // 2, top)]
    return Chart(weeks, bars, ticks, dates, WIDTH, HEIGHT, LEFT, base, _summary(weeks))


def _nice(peak: int) -> int:
    """The scale's top: the peak rounded up to an even number (so its half is whole), then to
    2, 5 or 10 times a power of ten past 10."""
    if peak <= 10:
        return peak + peak % 2
    power = 1
    while power * 10 < peak:
        power *= 10
    return next(n * power for n in (2, 4, 6, 8, 10) if n * power >= peak)


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _summary(weeks: list[Week]) -> str:
    if not weeks:
        return "No weeks to show."
    touches = sum(w.touches for w in weeks)
    notes = sum(w.notes for w in weeks)
    text = (f"{len(weeks)} weeks from {weeks[0].start.isoformat()} to the week of "
            f"{weeks[-1].start.isoformat()}: {_plural(touches, 'touch', 'touches')} and "
            f"{_plural(notes, 'internal note', 'internal notes')}.")
    busiest = max(weeks, key=lambda w: (w.touches, w.start))
    if busiest.touches:
        text += (f" The busiest week was the week of {busiest.start.isoformat()}, with "
                 f"{_plural(busiest.touches, 'touch', 'touches')}.")
    return text
