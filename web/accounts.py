"""`GET /accounts?q=` (SPEC 21): every account with its last touch, touches and notes, as
`touchlog accounts` lists them; `q` keeps those whose name or id contains it.

The pattern every page follows: parse the request, call what the command calls, render.
"""

from __future__ import annotations

from flask import Blueprint

from store.timeline.accounts import summary
from web.render import page, text_field

blueprint = Blueprint("accounts", __name__)


@blueprint.get("/accounts")
def index() -> tuple[str, int]:
    q = text_field("q", max_chars=200, source="args")
    return page("accounts.html", rows=summary(matching=q), q=q)
