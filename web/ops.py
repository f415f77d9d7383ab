"""How touchlog is doing (SPEC 21). For the machines that watch it, `GET /healthz` and
`GET /metrics`: neither needs a session, neither ever redirects. For its admins, `GET /runs`:
the recent poll passes (`touchlog runs`), the notices by status, and the Salesforce sync
(`touchlog sync status`); anyone else is refused with the CLI's words (403)."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, abort, request
from peewee import PeeweeException

from store.ledger.records import recent_runs
from store.ledger.totals import notice_counts, notices_by_status, notices_text
from store.models import database
from store.timeline.manage import require_admin
from sync import state as sync_state
from web.context import member, settings, state
from web.errors import BadInput
from web.metrics import CONTENT_TYPE, metrics_text
from web.render import page, text_field

blueprint = Blueprint("ops", __name__)


@blueprint.get("/healthz")
def healthz() -> Response:
    """200 `ok` while the database answers; it says nothing else."""
    try:
        database.execute_sql("SELECT 1").fetchone()
    except (PeeweeException, OSError):
        try:
            database.close()  # the next check connects afresh
        except PeeweeException:
            pass
        return Response("unavailable", 503, content_type="text/plain; charset=utf-8")
    return Response("ok", 200, content_type="text/plain; charset=utf-8")


@blueprint.get("/metrics")
def metrics() -> Response:
    """Only with `Authorization: Bearer <web.metrics_token>`; otherwise, or with no token
    configured, 404 as if there were no such page."""
    token = state().metrics_token
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not token or scheme.lower() != "bearer" \
            or not hmac.compare_digest(given.strip().encode(), token.encode()):
        abort(404)
    return Response(metrics_text(), 200, content_type=CONTENT_TYPE)


@blueprint.get("/runs")
def runs() -> tuple[str, int]:
    require_admin(member(), "the runs")
    limit = _limit()
    passes = [{"run": r, "notices": notices_text(notice_counts(r.counts or {}))}
              for r in recent_runs(limit)]
    sync_state.ensure_tables()  # as `sync status`: before the first sync there are none
    sf = settings().salesforce
    rows = sync_state.status_rows((sf.touchpoints_object, sf.tasks_object))
    return page("runs.html", passes=passes, limit=limit,
                notices=sorted(notices_by_status().items()), sync=rows,
                synced=any(r["last_run"] for r in rows), counts=sync_state.COUNTS,
                stopped=list(dict.fromkeys(r["stopped"] for r in rows if r["stopped"])))


def _limit() -> int:
    """`?limit=N` as `runs --limit`: 20 by default, at most 1,000 on a page."""
    text = text_field("limit", max_chars=6, source="args")
    if not text:
        return 20
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 1000:
        raise BadInput("limit", f"{text!r} is not a number from 1 to 1000")
    return int(text)
