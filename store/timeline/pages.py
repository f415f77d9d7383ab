"""An account's timeline as the web shows it (SPEC 21, `GET /accounts/ID`): a page of the
timeline `touchlog touchpoints --account` lists (store.timeline.touchpoints), with replies
folded under their thread's first touchpoint, copies mailed outside marked, and the weekly
touches and notes of the chart.

Every part is a bounded read, whatever the account's size: the page is a keyset range of the
timeline's index (page 200 reads what page 1 does), the replies and the mailed copies are
looked up for the page's ids only, the chart groups 26 weeks of one index range by day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from peewee import SQL, PostgresqlDatabase, Value, fn

from store import compiled
from store.models import INTERNAL_NOTE, Touchpoint, TouchpointMail, database, tuples
from store.timeline.touchpoints import Filter, shown_by, timeline_query

PAGE_SIZE = 50
# Replies shown under a first touchpoint on the timeline; the touchpoint's own page lists all.
REPLIES_SHOWN = 20
WEEKS = 26

# What a page shows of a touchpoint: every column but the trace (kilobytes of JSON a row that
# only `explain` reads).
LISTED = [f for f in Touchpoint._meta.sorted_fields if f.name != "trace"]

Cursor = tuple[datetime, int]  # (occurred_at, id): a place in the timeline's order


@dataclass(frozen=True)
class Row:
    tp: Touchpoint
    emailed_externally: bool = False
    replies: tuple[Row, ...] = ()  # the first REPLIES_SHOWN the filter shows, oldest first
    reply_count: int = 0  # all the filter shows


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    older: Cursor | None  # where the next (older) page starts; None: this is the last
    newer: Cursor | None  # where the previous (newer) page ends; None: this is the first


def place(tp: Touchpoint) -> Cursor:
    return tp.occurred_at, tp.id


def timeline_page(where: Filter, size: int = PAGE_SIZE) -> Page:
    """The page `where` names (its `before` or `after`, else the newest), folded, newest
    first. A page asked for by `after` that would be short is the first page instead."""
    if where.after is not None:
        rows = list(_listed(replace(where, fold=True, before=None, limit=size + 1)))
        if len(rows) <= size:
            return timeline_page(replace(where, after=None, before=None), size)
        shown = rows[:size][::-1]
        return Page(_rows(shown, where), older=place(shown[-1]), newer=place(shown[0]))
    rows = list(_listed(replace(where, fold=True, limit=size + 1)))
    shown = rows[:size]
    return Page(_rows(shown, where),
                older=place(shown[-1]) if len(rows) > size else None,
                newer=place(shown[0]) if where.before is not None and shown else None)


def _listed(where: Filter) -> Any:
    """The timeline's statement, selecting what a page shows."""
    return timeline_query(where).select(*LISTED)


def _rows(shown: list[Touchpoint], where: Filter) -> list[Row]:
    firsts = [tp.id for tp in shown if tp.thread_id in (None, tp.id)]
    replies, counts = _replies(firsts, where)
    mailed = _emailed_externally([tp.id for tp in shown] + [r.id for r in replies])
    under: dict[int | None, list[Row]] = {}
    for reply in replies:
        under.setdefault(reply.thread_id, []).append(Row(reply, reply.id in mailed))
    return [Row(tp, tp.id in mailed, tuple(under.get(tp.id, ())), counts.get(tp.id, 0))
            for tp in shown]


def _replies(firsts: list[int], where: Filter) -> tuple[list[Touchpoint], dict[int, int]]:
    """The replies the filter shows in these threads: how many each has, and the first
    REPLIES_SHOWN of each, oldest first: one windowed statement on the thread_id index."""
    if not firsts:
        return [], {}
    # A reply is on its thread's account (SPEC 14): no account condition, which would lead the
    # planner to walk the whole account instead of the thread_id index.
    scope = replace(where, account_id=None, before=None, after=None, limit=None, fold=False)
    thread = [Touchpoint.thread_id]
    ranked = Touchpoint.select(
        *LISTED, fn.ROW_NUMBER().over(partition_by=thread, order_by=[
            Touchpoint.occurred_at, Touchpoint.id]).alias("n"),
        fn.COUNT(SQL("*")).over(partition_by=thread).alias("total"),
    ).where(Touchpoint.thread_id.in_(firsts), *shown_by(Touchpoint, scope))
    sql, params = ranked.sql()
    mark = database.obj.param
    replies = list(Touchpoint.raw(f"SELECT * FROM ({sql}) AS ranked WHERE n <= {mark} "
                                  "ORDER BY occurred_at, id", *params, REPLIES_SHOWN))
    return replies, {r.thread_id: r.total for r in replies}


def _emailed_externally(ids: Iterable[int]) -> set[int]:
    wanted = list(ids)
    if not wanted:
        return set()
    return {tp_id for (tp_id,) in tuples(
        TouchpointMail.select(TouchpointMail.touchpoint)
        .where(TouchpointMail.touchpoint.in_(wanted), TouchpointMail.audience == "external")
        .distinct())}


@dataclass(frozen=True)
class Week:
    start: date  # its Monday (UTC)
    touches: int
    notes: int


def weekly(account_id: str, today: date, weeks: int = WEEKS) -> list[Week]:
    """The account's touches and internal notes (SPEC 13: a note is no touch) per week, Monday
    to Sunday UTC, the `weeks` weeks up to this one, oldest first; deleted ones count nowhere.

    Index-only counts of the weeks' range, never outside it however long the history: every
    live touchpoint on the (account, occurred_at) index, the notes on the (account, type,
    occurred_at) one; touches are the difference. How each database counts fastest differs
    (`_counts_by_range`, `_counts_by_week`)."""
    monday = today - timedelta(days=today.weekday())
    start = monday - timedelta(weeks=weeks - 1)
    counts = (_counts_by_week if isinstance(database.obj, PostgresqlDatabase)
              else _counts_by_range)(account_id, start, weeks)
    return [Week(start + timedelta(weeks=i), counts.get((i, 0), 0) - counts.get((i, 1), 0),
                 counts.get((i, 1), 0)) for i in range(weeks)]


def _counts_by_range(account_id: str, start: date, weeks: int) -> dict[tuple[int, int], int]:
    """SQLite: one statement of 52 range counts, a week and a kind each; computing the week of
    each row (DATE()) cost three times as much."""
    bounds = {f":b{i}": datetime.combine(start + timedelta(weeks=i), datetime.min.time())
              for i in range(weeks + 1)}
    rows = compiled.run(("weekly", weeks), lambda: _weekly_query(weeks),
                        {":account": account_id, **bounds})
    return {(week, notes): count for week, notes, count in rows}


def _counts_by_week(account_id: str, start: date, weeks: int) -> dict[tuple[int, int], int]:
    """PostgreSQL: two index-only scans grouped by date_trunc('week') (a Monday), in one
    statement; planning 52 range counts took it longer than counting."""
    since = datetime.combine(start, datetime.min.time())
    week = fn.date_trunc(SQL("'week'"), Touchpoint.occurred_at)
    kinds = [Touchpoint.select(week, Value(notes), fn.COUNT(SQL("*")))
             .where(Touchpoint.account == account_id, Touchpoint.deleted_at.is_null(),
                    Touchpoint.occurred_at >= since,
                    Touchpoint.occurred_at < since + timedelta(weeks=weeks),
                    *([Touchpoint.type == INTERNAL_NOTE] if notes else []))
             .group_by(week) for notes in (0, 1)]
    return {((monday.date() - start).days // 7, notes): count
            for monday, notes, count in tuples(kinds[0] + kinds[1])}


def _weekly_query(weeks: int) -> SimpleNamespace:
    """Two counts a week, UNION ALL: its live touchpoints, its internal notes. Compiled once:
    Peewee takes longer to build these 52 parts than SQLite to count them."""
    parts, params = [], []
    for i in range(weeks):
        for notes in (False, True):
            part = (Touchpoint.select(Value(i), Value(int(notes)), fn.COUNT(SQL("*")))
                    .where(Touchpoint.account == ":account", Touchpoint.deleted_at.is_null(),
                           Touchpoint.occurred_at >= f":b{i}",
                           Touchpoint.occurred_at < f":b{i + 1}"))
            sql, values = (part.where(Touchpoint.type == INTERNAL_NOTE) if notes else part).sql()
            parts.append(sql)
            params += values
    return SimpleNamespace(sql=lambda: (" UNION ALL ".join(parts), params))
