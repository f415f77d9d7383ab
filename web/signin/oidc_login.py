"""Sign-in by OpenID Connect (SPEC 21): the two routes around web.signin.oidc.OidcClient, only
when "oidc" is one of `web.sign_in` (else 404).

    GET /login/oidc           begin: `pending` (state, nonce, PKCE verifier, when) goes into a
                              cookie of its own, then the browser goes to the provider
    GET /login/oidc/callback  the cookie is read and dropped (used once, success or not),
                              finish, then web.gate.sign_in(member, "oidc")

`pending` is kept in the browser, signed, not on the server: the cookie `touchlog_oidc` is
HttpOnly, SameSite=Lax (the provider's redirect back is a top-level GET, which Lax lets through),
only sent to /login/oidc…, and good for OidcClient's 10 minutes. It is signed with a key made
from the database's CSRF key (store.access.keys), so nobody can write one; what it holds is this
browser's own sign-in, which the provider's `state` ties the callback to. On a refusal the sign-in
page says why, with 403, and no session starts.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, g, make_response, redirect, request
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from core.errors import SignInRefused
from store.access.keys import keyed_hash
from store.access.links import member_by_address
from web.context import settings, state
from web.gate import sign_in
from web.render import page
from web.signin.oidc import PENDING_SECONDS, OidcClient
from web.signin.oidc_token import REFUSED

log = logging.getLogger(__name__)
blueprint = Blueprint("oidc", __name__)

PENDING_COOKIE = "touchlog_oidc"
_COOKIE_PATH = "/login/oidc"


@blueprint.get("/login/oidc")
def begin() -> Response | tuple[str, int]:
    client = _client()
    try:
        url, pending = client.begin(redirect_uri())
    except SignInRefused as exc:
        return refused(exc)
    response = redirect(url)
    response.set_cookie(PENDING_COOKIE, _signer().dumps(pending), max_age=PENDING_SECONDS,
                        httponly=True, samesite="Lax", secure=state().secure,
                        path=_COOKIE_PATH)
    return response


@blueprint.get("/login/oidc/callback")
def callback() -> Response | tuple[str, int]:
    client = _client()
    pending = _pending()
    try:
        address = client.finish(request.args, pending, redirect_uri())
        member = member_by_address(address)
        if member is None:  # removed from the team between the two lookups
            raise SignInRefused(REFUSED + f"{address} is not a member of the team.")
    except SignInRefused as exc:
        answer: Response | tuple[str, int] = refused(exc)
    else:
        answer = sign_in(member, "oidc")
    return _drop_pending(answer)


def redirect_uri() -> str:
    """BASE_URL/login/oidc/callback, exactly as registered with the provider."""
    return settings().web.base_url.rstrip("/") + "/login/oidc/callback"


def refused(exc: SignInRefused) -> tuple[str, int]:
    log.info("oidc sign-in refused from %s: %s", g.get("client", ""), exc)
    ways = settings().web.sign_in
    return page("login.html", status=403, email="email" in ways, oidc="oidc" in ways,
                refused=str(exc))


def _client() -> OidcClient:
    client = state().oidc
    if client is None:
        abort(404)
    return client


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(keyed_hash(state().keys.csrf, "oidc pending"),
                                  salt="touchlog oidc pending")


def _pending() -> dict[str, Any] | None:
    """What begin() kept in this browser, or None (none, expired, or not ours)."""
    value = request.cookies.get(PENDING_COOKIE, "")
    if not value:
        return None
    try:
        found = _signer().loads(value, max_age=PENDING_SECONDS)
    except BadData:
        return None
    return found if isinstance(found, dict) else None


def _drop_pending(answer: Response | tuple[str, int]) -> Response:
    response = make_response(answer)
    response.delete_cookie(PENDING_COOKIE, path=_COOKIE_PATH, httponly=True, samesite="Lax",
                           secure=state().secure)
    return response
