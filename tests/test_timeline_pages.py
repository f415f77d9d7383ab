"""store/timeline/pages.py: the web's timeline pages (keyset paging, replies folded, mailed
copies marked) and the chart's weekly counts, on SQLite and PostgreSQL, and the statements on
their indexes however deep the page."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from store.db import open_database
from store.models import Account, Touchpoint, TouchpointMail
from store.timeline.pages import place, timeline_page, weekly
from store.timeline.touchpoints import Filter, timeline, timeline_query

START = datetime(2026, 1, 5, 9)  # a Monday


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    url = (f"sqlite:///{tmp_path / 'pages.db'}" if request.param == "sqlite"
           else request.getfixturevalue("pg_url"))
    database = open_database(url)
    Account.create(account_id="A", name="A")
    Account.create(account_id="B", name="B")
    yield database
    database.close()


def _tp(account="A", when=START, kind="email", parent=None, deleted=False, subject="") -> int:
    first = Touchpoint.get_by_id(parent) if parent else None
    return Touchpoint.create(
        account=account, type=kind, flow="Default", occurred_at=when, subject=subject,
        creator_domain="ourco.com", parent=parent,
        thread_id=(first.thread_id or first.id) if first else None,
        deleted_at=START if deleted else None).id


def _walk(where: Filter, size: int) -> list[list[int]]:
    """Every page from the newest, following `older`."""
    pages, page = [], timeline_page(where, size)
    while True:
        pages.append([row.tp.id for row in page.rows])
        if page.older is None:
            return pages
        page = timeline_page(replace(where, before=page.older), size)


def test_pages_follow_the_cli_timeline_without_a_gap_or_a_repeat(store):
    # Ties on the time (three at each minute) are where an offset-free page could slip.
    ids = [_tp(when=START + timedelta(minutes=n // 3)) for n in range(47)]
    _tp(deleted=True)
    _tp(account="B")
    pages = _walk(Filter(account_id="A"), size=10)
    assert [len(p) for p in pages] == [10, 10, 10, 10, 7]
    cli = [tp.id for tp in timeline(where=Filter(account_id="A"))]
    assert sum(pages, []) == cli and sorted(cli) == sorted(ids)


def test_newer_goes_back_the_way_older_came(store):
    for n in range(25):
        _tp(when=START + timedelta(hours=n))
    first = timeline_page(Filter(account_id="A"), 10)
    assert first.newer is None
    second = timeline_page(Filter(account_id="A", before=first.older), 10)
    third = timeline_page(Filter(account_id="A", before=second.older), 10)
    assert third.older is None and len(third.rows) == 5
    back = timeline_page(Filter(account_id="A", after=third.newer), 10)
    assert [r.tp.id for r in back.rows] == [r.tp.id for r in second.rows]
    # Past the newest page, `after` gives the first page whole, not a short one.
    again = timeline_page(Filter(account_id="A", after=place(first.rows[3].tp)), 10)
    assert [r.tp.id for r in again.rows] == [r.tp.id for r in first.rows]
    assert again.newer is None


def test_replies_fold_under_their_first_touchpoint_with_their_count(store):
    first = _tp(when=START, subject="first")
    replies = [_tp(when=START + timedelta(days=d), parent=first) for d in (1, 2, 3)]
    nested = _tp(when=START + timedelta(days=4), parent=replies[0])  # a reply to a reply
    gone = _tp(when=START + timedelta(days=5), parent=first, deleted=True)
    alone = _tp(when=START + timedelta(days=6))
    rows = timeline_page(Filter(account_id="A")).rows
    assert [r.tp.id for r in rows] == [alone, first]
    [thread] = [r for r in rows if r.tp.id == first]
    assert thread.reply_count == 4
    assert [r.tp.id for r in thread.replies] == [*replies, nested]
    assert gone not in [r.tp.id for r in thread.replies]


def test_a_reply_stands_alone_when_its_first_is_deleted_or_filtered_out(store):
    first = _tp(when=START, kind="telephone_call")
    reply = _tp(when=START + timedelta(days=10), parent=first)
    since = timeline_page(Filter(account_id="A", since=START + timedelta(days=1))).rows
    assert [(r.tp.id, r.reply_count) for r in since] == [(reply, 0)]
    calls = timeline_page(Filter(account_id="A", type="telephone_call")).rows
    assert [(r.tp.id, r.reply_count) for r in calls] == [(first, 0)]  # replies are emails
    Touchpoint.update(deleted_at=START).where(Touchpoint.id == first).execute()
    assert [r.tp.id for r in timeline_page(Filter(account_id="A")).rows] == [reply]


def test_only_twenty_replies_are_carried_and_all_are_counted(store):
    first = _tp()
    for n in range(25):
        _tp(when=START + timedelta(minutes=n + 1), parent=first)
    [row] = timeline_page(Filter(account_id="A")).rows
    assert row.reply_count == 25 and len(row.replies) == 20
    assert [r.tp.occurred_at for r in row.replies] == sorted(r.tp.occurred_at
                                                             for r in row.replies)


def test_copies_mailed_outside_are_marked(store):
    mailed, internal, first = _tp(), _tp(), _tp()
    reply = _tp(when=START + timedelta(days=1), parent=first)
    for n, (tp, audience) in enumerate(((mailed, "external"), (internal, "internal"),
                                        (internal, "me"), (reply, "external"))):
        TouchpointMail.create(touchpoint=tp, message_id=f"c{n}@x", audience=audience,
                              sent_by="sam@ourco.com")
    rows = {r.tp.id: r for r in timeline_page(Filter(account_id="A")).rows}
    assert rows[mailed].emailed_externally and not rows[internal].emailed_externally
    assert not rows[first].emailed_externally and rows[first].replies[0].emailed_externally


def test_weekly_counts_touches_and_notes_apart_monday_to_sunday(store):
    today = date(2026, 11, 4)  # a Wednesday; its week began on Monday 2 November
    for when, kind in ((datetime(2026, 11, 2, 0, 0), "email"),           # this week's Monday
                       (datetime(2026, 11, 8, 23, 59), "telephone_call"),  # its Sunday
                       (datetime(2026, 11, 1, 23, 59), "email"),          # last week
                       (datetime(2026, 11, 1, 12), "internal_note"),
                       (datetime(2026, 5, 11), "email"),                  # the 26th week back
                       (datetime(2026, 5, 10, 23), "email"),              # before it
                       (datetime(2026, 11, 9), "email")):                 # next week
        _tp(when=when, kind=kind)
    _tp(when=datetime(2026, 11, 3), deleted=True)
    _tp(account="B", when=datetime(2026, 11, 3))
    weeks = weekly("A", today)
    assert len(weeks) == 26
    assert (weeks[0].start, weeks[-1].start) == (date(2026, 5, 11), date(2026, 11, 2))
    assert [(w.touches, w.notes) for w in weeks if w.touches or w.notes] == \
        [(1, 0), (1, 1), (2, 0)]
    assert (weeks[-2].touches, weeks[-2].notes) == (1, 1)


def _plan(db, query) -> str:
    sql, params = query.sql()
    return " | ".join(str(row[-1]) for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params))


@pytest.mark.parametrize("where, index", [
    ({}, "tp_live_account_timeline"),
    ({"notes": False}, "tp_live_account_timeline"),
    ({"since": datetime(2026, 1, 1)}, "tp_live_account_timeline"),
    ({"notes": True}, "tp_account_type"),
    ({"type": "email"}, "tp_account_type"),
])
def test_any_page_reads_the_index_from_its_place(db, where, index):
    """A deep page is a range of the index from the cursor, in order: no sort, no offset."""
    deep = Filter(account_id="A", limit=51, fold=True, before=(datetime(2026, 1, 1), 42),
                  **where)
    for f in (replace(deep, before=None), deep):
        plan = _plan(db, timeline_query(f))
        assert f"INDEX {index}" in plan and "TEMP B-TREE" not in plan, plan
        assert "SCAN t1" not in plan.replace(f"USING INDEX {index}", ""), plan
    if not where:  # a range on occurred_at from the cursor, not the whole account
        assert "occurred_at<?" in _plan(db, timeline_query(deep)), _plan(db, timeline_query(deep))


def test_every_statement_of_a_page_and_its_chart_is_bounded(db, caplog):
    """The page (first and deep), its replies and mailed copies, the chart and the last touch:
    each statement a search on an index, none a scan of the table or of the account."""
    import logging

    from store.timeline.accounts import last_touch_at

    Account.create(account_id="A", name="A")
    first = _tp()
    for n in range(30):
        _tp(when=START + timedelta(hours=n + 1), parent=first if n % 3 else None,
            kind="internal_note" if n % 7 == 0 else "email")
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        page = timeline_page(Filter(account_id="A"), size=5)
        timeline_page(Filter(account_id="A", before=page.older, notes=False), size=5)
        weekly("A", date(2026, 2, 1))
        last_touch_at("A")
    statements = [r.msg for r in caplog.records if r.name == "peewee" and isinstance(r.msg, tuple)]
    assert len(statements) >= 8
    for sql, params in statements:
        plan = [str(row[-1]) for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql,
                                                       list(params))]
        unbounded = [step for step in plan  # a scan of the table, or of the whole account
                     if step.startswith("SCAN t") or step.endswith("(account_id=?)")
                     and "tp_live_account_timeline" not in step]
        assert not unbounded, (sql, plan)
