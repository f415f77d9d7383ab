"""For the machines that watch touchlog (SPEC 21): `GET /healthz` and `GET /metrics`. Neither
needs a session; neither ever redirects."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, abort, request
from peewee import PeeweeException

from store.models import database
from web.context import state
from web.metrics import CONTENT_TYPE, metrics_text

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
