"""CSRF (SPEC 21): every POST carries the session's token, as the form field `csrf_token` or
the header `X-CSRFToken` (htmx sends the header: base.html sets it on <body>); without it the
answer is 400 and nothing changes.

The token is an HMAC of the session with the database's CSRF key, so it needs no storage. A
visitor who has not signed in yet (the sign-in forms) gets a random value in a cookie of its
own, and the token is made from that.
"""

from __future__ import annotations

import hmac
import re
import secrets

from flask import g, request
from werkzeug.wrappers import Response

from store.access.keys import keyed_hash
from web.context import state

PRE_COOKIE = "touchlog_pre"
FIELD = "csrf_token"
HEADER = "X-CSRFToken"
_SEED = re.compile(r"[0-9a-f]{64}")


def csrf_token() -> str:
    """This visitor's token, for the form field (templates: `{{ csrf_field() }}`)."""
    return keyed_hash(state().keys.csrf, _seed(create=True))


def csrf_ok() -> bool:
    given = request.form.get(FIELD) or request.headers.get(HEADER) or ""
    seed = _seed(create=False)
    if not given or not seed:
        return False
    return hmac.compare_digest(given, keyed_hash(state().keys.csrf, seed))


def keep_pre_cookie(response: Response) -> None:
    """Set the pre-session cookie when this response made one (web.headers calls this)."""
    fresh = g.get("new_pre_seed")
    if fresh:
        response.set_cookie(PRE_COOKIE, fresh, httponly=True, samesite="Lax",
                            secure=state().secure, path="/")


def _seed(create: bool) -> str:
    session = g.get("session")
    if session is not None:
        return "session:" + session.key_hash
    seed = request.cookies.get(PRE_COOKIE, "")
    if not _SEED.fullmatch(seed):
        seed = g.get("new_pre_seed", "")
        if not seed and create:
            seed = g.new_pre_seed = secrets.token_hex(32)
    return "pre:" + seed if seed else ""
