"""Who is asking (SPEC 21), before any view runs: the client's address, the session and its
member read afresh from the team, the way in for those without one, and the CSRF check.

Without a session, every page but /login…, /static/…, /healthz and /metrics redirects a GET
to /login and answers anything else 401. Every POST needs the CSRF token (web.csrf): 400.
"""

from __future__ import annotations

from flask import Flask, abort, g, redirect, request, url_for
from werkzeug.wrappers import Response

from store.access.audit import record
from store.access.sessions import current, end_session, start_session
from store.models import TeamMember
from web.client import client_address
from web.context import now, state
from web.csrf import csrf_ok

SESSION_COOKIE = "touchlog_session"
_SAFE = ("GET", "HEAD", "OPTIONS")


def install_gate(app: Flask) -> None:
    app.before_request(_gate)


def _gate() -> Response | None:
    st = state()
    g.client = client_address(request.remote_addr, request.headers.get("X-Forwarded-For"),
                              st.trusted_proxies)
    g.member = g.session = None
    path = request.path
    if path in ("/healthz", "/metrics") or path.startswith("/static/"):
        return None  # open to all, and they never read a session (the database may be down)
    _find_session()
    if g.member is None and not (path == "/login" or path.startswith("/login/")):
        if request.method in ("GET", "HEAD"):
            return redirect(url_for("login.page"))
        abort(401, "Sign in first.")
    if request.method not in _SAFE and not csrf_ok():
        abort(400, "csrf_token: missing or out of date; reload the page and try again.")
    return None


def _find_session() -> None:
    value = request.cookies.get(SESSION_COOKIE, "")
    if not value:
        return
    found = current(value, state().keys.session, now())
    if found is None:
        g.drop_session_cookie = True  # ended, expired, or its member left the team
        return
    g.session, g.member = found


def sign_in(member: TeamMember, how: str) -> Response:
    """Start a session for a member whose address was verified (a spent sign-in link, an
    OIDC ID token) and go to the start page. Any session this browser had ends first, so a
    session id planted before sign-in is worth nothing after it."""
    st = state()
    if g.get("session") is not None:
        end_session(g.session, now())
    value = start_session(member, st.settings.web.session_hours, st.keys.session, now(), how)
    record(member.email, "sign_in", how, g.client, now())
    response = redirect(url_for("home"), 303)
    response.set_cookie(SESSION_COOKIE, value, max_age=st.settings.web.session_hours * 3600,
                        httponly=True, samesite="Lax", secure=st.secure, path="/")
    g.drop_session_cookie = False
    return response


def sign_out() -> Response:
    """End this session (POST /logout) and go to the sign-in page."""
    if g.get("session") is not None and g.get("member") is not None:
        end_session(g.session, now())
        record(g.member.email, "sign_out", "", g.client, now())
    g.drop_session_cookie = True
    return redirect(url_for("login.page"), 303)


def drop_cookie_if_ended(response: Response) -> None:
    """Clear the cookie of a session that ended (web.headers calls this)."""
    if g.get("drop_session_cookie"):
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="Lax",
                               secure=state().secure)
