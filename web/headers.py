"""What every response carries (SPEC 21), pages, errors, redirects and files alike: the
security headers, and no caching of anything but the static files."""

from __future__ import annotations

from flask import Flask, request
from werkzeug.wrappers import Response

from web.context import state
from web.csrf import keep_pre_cookie
from web.gate import drop_cookie_if_ended

SECURITY_HEADERS = {
    # default-src 'self': no inline script or style, no handler attributes, nothing from
    # elsewhere; so htmx is served from /static and every style lives in touchlog.css.
    "Content-Security-Policy": "default-src 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def install_headers(app: Flask) -> None:
    app.after_request(_finish)


def _finish(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    if state().secure:
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
    if not request.path.startswith("/static/"):
        # Pages show customer data: a shared computer's back button must not bring it back.
        response.headers["Cache-Control"] = "no-store"
    keep_pre_cookie(response)
    drop_cookie_if_ended(response)
    return response
