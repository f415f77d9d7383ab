"""`GET /audit` (SPEC 21, admins): who read or changed what, when, from which address; the
rows `touchlog audit` prints, newest first, 100 a page, filtered by member and date."""

from __future__ import annotations

from datetime import date, datetime, time

from flask import Blueprint

from store.access.audit import entries
from store.timeline.manage import require_admin
from web.context import member
from web.errors import BadInput
from web.render import page, page_number, text_field

blueprint = Blueprint("audit", __name__)
PAGE = 100


@blueprint.get("/audit")
def index() -> tuple[str, int]:
    require_admin(member(), "the audit trail")
    who = text_field("member", max_chars=320, source="args")
    since = _day(text_field("since", max_chars=10, source="args"))
    number = page_number()
    rows = entries(member=who or None, since=since, limit=PAGE + 1, offset=(number - 1) * PAGE)
    return page("audit.html", rows=rows[:PAGE], who=who,
                since=since.date().isoformat() if since else "", number=number,
                more=len(rows) > PAGE)


def _day(text: str) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.combine(date.fromisoformat(text), time())
    except ValueError:
        raise BadInput("since", f"{text!r} is not a date (2026-11-02)") from None
