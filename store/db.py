"""The database from a URL: opened, bound to the models, created or migrated when needed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from peewee import Database, OperationalError, PostgresqlDatabase, SqliteDatabase

from poller.errors import DatabaseError
from store.migrate import upgrade
from store.models import KeyCheck, database

# WAL + synchronous=NORMAL: ~3,500 commits/s instead of ~600 (SPEC section 7), and readers
# (touchlog touchpoints) never block the poller.
SQLITE_PRAGMAS = {"journal_mode": "wal", "synchronous": "normal", "foreign_keys": 1,
                  "busy_timeout": 10000}


def open_database(url: str, create: bool = True, key_file: Path | None = None) -> Database:
    """Open the database at `url`, bind the models to it, create what is missing and bring an
    older schema up to date (store.migrate); with a key file, prove its key opens this
    database before anything is written (SPEC 12)."""
    from store.crypto import KeyRing
    from store.keys import bind

    ring = KeyRing.load(key_file) if key_file else None
    db = _database_for(url)
    try:
        db.connect(reuse_if_open=True)
        database.initialize(db)
        if create:
            upgrade(db)
        bind(ring, KeyCheck, writable=create)
    except (OperationalError, OSError) as exc:
        raise DatabaseError(f"database {_redact(url)}: {exc}") from None
    except Exception as exc:  # driver errors (psycopg2) do not share a base class with peewee's
        raise DatabaseError(f"database {_redact(url)}: {exc}".strip()) from None
    return db


def _database_for(url: str) -> Database:
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if path != ":memory:":
            parent = Path(path).parent
            if not parent.is_dir():
                raise DatabaseError(f"database {url}: folder {parent} does not exist")
        return SqliteDatabase(path, pragmas=SQLITE_PRAGMAS)
    if url.startswith(("postgresql://", "postgres://")):
        from playhouse.db_url import parse

        params = parse(url)
        name = params.pop("database")
        return _Postgresql(name, autorollback=False, **params)
    raise DatabaseError(f"database {url}: only sqlite:/// and postgresql:// URLs are supported")


class _Postgresql(PostgresqlDatabase):
    """PostgreSQL text cannot hold NUL (0x00). Mail text arrives without it already (see
    poller.message); this catches whatever else carries one (a CSV cell, a display name), which
    would otherwise fail with psycopg2's ValueError and leave the message failing every pass."""

    def execute_sql(self, sql: str, params: Any = None) -> Any:
        if params and isinstance(params, list | tuple):
            params = [p.replace("\x00", "\ufffd") if isinstance(p, str) and "\x00" in p else p
                      for p in params]
        return super().execute_sql(sql, params)


def _redact(url: str) -> str:
    """Never print a password that sits in a database URL."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}" if ":" in creds else url
    return url
