"""`GET /accounts/ID` (SPEC 21): an account's timeline, newest first, 50 a page, filtered by
`type, flow, notes=only|none, since, until`, replies folded under their thread's first
touchpoint, copies mailed outside marked, and the chart of touches and notes per week.

The page is what `touchlog touchpoints --account ID` lists (store.timeline.touchpoints, through
store.timeline.pages); the next page is a place in that order (`before`), never an offset.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint

from core.ids import parse_id
from store.directory.lookups import require_account
from store.timeline.accounts import last_touch_at
from store.timeline.drafts import check_filter
from store.timeline.pages import Cursor, timeline_page, weekly
from store.timeline.touchpoints import Filter
from web.context import now, settings
from web.errors import BadInput
from web.fields import one_of, optional, when
from web.render import account_url, audit, page
from web.timeline.chart import chart_of

blueprint = Blueprint("timeline", __name__)

NOTES = {"only": True, "none": False}
FILTERS = ("type", "flow", "notes", "since", "until")


@blueprint.get("/accounts/<path:account_id>")
def show(account_id: str) -> tuple[str, int]:
    account = require_account(account_id)  # NotFound → 404; a removed one keeps its history
    where, chosen = _filter(account.account_id)
    check_filter(settings(), where)
    shown = timeline_page(where)
    weeks = weekly(account.account_id, now().date())
    audit("view", f"account {account.account_id}")
    base = account_url(account.account_id)
    return page("timeline.html", account=account, last_touch=last_touch_at(account.account_id),
                page=shown, chosen=chosen, chart=chart_of(weeks),
                touches=sum(w.touches for w in weeks), notes=sum(w.notes for w in weeks),
                types=settings().touchpoints.types, flows=settings().touchpoints.flows,
                older=_link(base, chosen, "before", shown.older),
                newer=_link(base, chosen, "after", shown.newer),
                newest=_link(base, chosen, None, None) if shown.newer else None)


def _filter(account_id: str) -> tuple[Filter, dict[str, str]]:
    """The query string as a Filter, and the filters as given (for the form and the links)."""
    notes = one_of("notes", ("only", "none"), source="args")
    where = Filter(account_id=account_id, type=optional("type", "args", 200),
                   flow=optional("flow", "args", 200),
                   notes=NOTES[notes] if notes else None,
                   since=when("since", "args"), until=when("until", "args", end_of_day=True),
                   before=_cursor("before"), after=_cursor("after"))
    chosen = {name: optional(name, "args", 200) or "" for name in FILTERS}
    return where, chosen


def _cursor(name: str) -> Cursor | None:
    """A place in the timeline's order as a link carries it: `2026-11-02T14:30:00.000000_42`."""
    value = optional(name, "args", 100)
    if value is None:
        return None
    at, _, number = value.rpartition("_")
    tp_id = parse_id(number)
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        moment = None
    if tp_id is None or moment is None or moment.tzinfo is not None:
        raise BadInput(name, f"{value!r} is not a place in the timeline (follow the page's "
                             "links)")
    return moment, tp_id


def _link(base: str, chosen: dict[str, str], name: str | None, place: Cursor | None) -> \
        str | None:
    if name is not None and place is None:
        return None
    params: list[tuple[str, Any]] = [(k, v) for k, v in chosen.items() if v]
    if name is not None and place is not None:
        params.append((name, f"{place[0]:%Y-%m-%dT%H:%M:%S.%f}_{place[1]}"))
    return base + ("?" + urlencode(params) if params else "")
