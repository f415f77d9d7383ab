"""Statements run without peewee's layers, for the few a pass runs for every message.

Through peewee a statement costs ~10 µs of Python before the driver sees it (the proxy's
attribute lookup, our storable() wrapper, execute_sql, the query log check, a fresh cursor, the
exception wrapper); a pass runs eight a message (two savepoints, the ledger and directory
lookups, two inserts). `execute` keeps what matters of that, the parameters made storable and
the drivers' errors raised as peewee's (callers catch IntegrityError and OperationalError),
and falls back to peewee when the connection is not open or someone listens (query hooks, the
debug log).
"""

from __future__ import annotations

import logging
from typing import Any

import peewee
from peewee import Database, _savepoint

from core.text import storable as storable_text

_WRAPPER: Any = vars(peewee)["__exception_wrapper__"]  # the driver's errors as peewee's
_PEEWEE_LOG = logging.getLogger("peewee")


def storable(params: Any) -> Any:
    """Parameters as every database can store them: NUL (PostgreSQL text cannot hold it) and
    lone surrogates (raw 8-bit header bytes, which no UTF-8 encoder takes) become U+FFFD. Mail
    text arrives clean already (poller.mail.message); this is the last guard, so an odd byte in a
    CSV cell or a display name never leaves a message failing on every pass."""
    if not params or not isinstance(params, list | tuple):
        return params
    return [storable_text(p) if isinstance(p, str) and (not p.isascii() or "\x00" in p) else p
            for p in params]


def execute(db: Database, sql: str, params: Any = None) -> Any:
    """`db.execute_sql(sql, params)`, the cursor it returns, at a third of the Python. The
    driver's error goes through peewee's wrapper only when there is one (a try costs nothing
    until it catches; the wrapper's `with` was two calls a statement)."""
    state = db._state  # type: ignore[attr-defined]
    conn = state.conn
    if conn is None or state.closed or db.query_hooks or _PEEWEE_LOG.isEnabledFor(logging.DEBUG):
        return db.execute_sql(sql, params)
    try:
        cursor = conn.cursor()
        cursor.execute(sql, storable(params) if params else ())
    except Exception:
        with _WRAPPER:
            raise
    return cursor


class Savepoint(_savepoint):
    """peewee's savepoint, its three statements run through `execute`."""

    def _begin(self) -> None:
        execute(_real(self.db), f"SAVEPOINT {self.quoted_sid}")

    def commit(self, begin: bool = True) -> None:
        execute(_real(self.db), f"RELEASE SAVEPOINT {self.quoted_sid}")
        if begin:
            self._begin()

    def rollback(self, begin: bool = True) -> None:
        execute(_real(self.db), f"ROLLBACK TO SAVEPOINT {self.quoted_sid}")
        if begin:
            self._begin()


def _real(db: Any) -> Database:
    return getattr(db, "obj", db)  # through the models' DatabaseProxy, or the database itself
