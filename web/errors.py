"""Every error as a page that says what happened (SPEC 21): a refused action 403 with the
command line's words, an unknown id 404, bad input 400 naming the field, a CSRF failure 400,
no session 401, a database that does not answer 503. Never a traceback."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from peewee import PeeweeException
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from core.errors import (
    DatabaseError,
    FieldError,
    NotFound,
    NoticeError,
    Refused,
    TouchlogError,
)
from store.models import database

log = logging.getLogger(__name__)

TITLES = {400: "Bad request", 401: "Sign in first", 403: "Not allowed", 404: "Not found",
          405: "Not allowed here", 413: "Too large", 500: "Something went wrong",
          503: "Unavailable"}


# A form or query field that cannot be used: 400, and the page names the field. The store's
# own FieldError (a draft's, a filter's), so a view and the store it calls raise one type.
BadInput = FieldError


def install_errors(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http)
    app.register_error_handler(Refused, lambda exc: error_page(403, str(exc)))
    app.register_error_handler(NotFound, lambda exc: error_page(404, str(exc)))
    app.register_error_handler(DatabaseError, _database)
    app.register_error_handler(PeeweeException, _database)
    # The mail server would not take a copy (touchpoints send): the server's trouble, not the
    # request's; the page says what SMTP said and what was sent before.
    app.register_error_handler(NoticeError, lambda exc: error_page(503, str(exc)))
    app.register_error_handler(TouchlogError, lambda exc: error_page(400, str(exc)))
    app.register_error_handler(Exception, _unexpected)


def error_page(status: int, message: str) -> tuple[str, int]:
    return render_template("error.html", status=status, title=TITLES.get(status, "Error"),
                           message=message), status


def _http(exc: HTTPException) -> Response | tuple[str, int]:
    if exc.code is None or exc.code < 400:
        return exc.get_response()
    said = str(exc.description or "")
    if said == (type(exc).description or ""):  # werkzeug's own words: ours are plainer
        said = _DEFAULTS.get(exc.code, said)
    return error_page(exc.code, said)


_DEFAULTS = {404: "There is no such page.", 405: "This page does not take that method.",
             401: "Sign in first.", 413: "That is more than touchlog takes at once."}


def _database(exc: Exception) -> tuple[str, int]:
    log.error("database: %s", exc)
    if not database.is_closed():
        try:
            database.close()  # the next request connects afresh
        except PeeweeException:
            pass
    return error_page(503, "The database is not answering; try again in a moment.")


def _unexpected(exc: Exception) -> tuple[str, int]:
    log.exception("unexpected error: %s", exc)
    return error_page(500, "touchlog met an unexpected error; it is in the server's log.")
