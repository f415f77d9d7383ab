"""The database from a URL: opened, bound to the models, created or migrated when needed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import quote

from peewee import Database, InterfaceError, OperationalError, PostgresqlDatabase, SqliteDatabase

from core.errors import DatabaseError
from core.private import touch_private
from core.secrets import redact_url, without_url_password
from store.migrate import upgrade
from store.models import KeyCheck, database
from store.statements import storable

# WAL + synchronous=NORMAL: ~3,500 commits/s instead of ~600 (SPEC section 7), and readers
# (touchlog touchpoints) never block the poller.
#
# No memory map (mmap_size 0, SQLite's default) and SQLite's own 2 MB page cache: a pass's memory
# stays flat as the database grows (59, 64 and 70 MB at 2,000, 20,000 and 50,000 messages in
# bench/bench_peers.py). Through a map, every page a pass touched stayed resident, and the
# kernel maps up to 16 neighbours with each one: 94 MB at 20,000 even when the map was dropped
# after every batch. Reads go through the kernel's file cache instead, which is fast enough:
# resolution at 1,000,000 customer users takes a median 0.053 ms, the same as at 10,000
# (bench/bench_resolve.py --size full).
SQLITE_PRAGMAS: dict[str, Any] = {
    "journal_mode": "wal", "synchronous": "normal", "foreign_keys": 1, "busy_timeout": 10000,
    "mmap_size": 0, "cache_size": -2 * 1024}


def open_database(url: str, create: bool = True, key_file: Path | None = None) -> Database:
    """Open the database at `url`, bind the models to it, create what is missing and bring an
    older schema up to date (store.migrate); with a key file, prove its key opens this
    database before anything is written (SPEC 12).

    A SQLite file touchlog may not write (a read-only file, folder or disk) is opened read-only
    instead: the read commands work, and the first write says "read-only" in one line."""
    from store.encryption.keyring import KeyRing
    from store.encryption.keys import bind, seal_earlier_values, sealing_arrived

    ring = KeyRing.load(key_file) if key_file else None
    db = _database_for(url)
    created: set[str] = set()
    try:
        try:
            db.connect(reuse_if_open=True)
            database.initialize(db)
            if create:
                created = upgrade(db)
        except OperationalError as exc:
            if not isinstance(db, SqliteDatabase) or not _unwritable(db, exc):
                raise
            db = _read_only(db)
            create = False
        bind(ring, KeyCheck, writable=create)
        if ring is not None and sealing_arrived(created):
            seal_earlier_values()
    except (OperationalError, OSError) as exc:
        raise database_error(url, exc) from None
    except Exception as exc:  # driver errors (psycopg2) do not share a base class with peewee's
        raise DatabaseError(_line(url, "", " ".join(str(exc).split()))) from None
    return db


@contextmanager
def journal_savepoints_in_memory() -> Iterator[None]:
    """For a poll pass: it takes a savepoint for every message inside its batch's transaction,
    and SQLite keeps the pages a savepoint changes in a sub-journal. On disk (the default) that
    file is written once a message's pages pass 64 KB, then rewritten for every later message
    of the transaction: 26 of the 29 write calls a logged note cost the pass's process (strace
    on 6,000 notes). In memory it holds one message's pages, emptied at each RELEASE.

    Only while the pass runs: temp_store also keeps SQLite's sort files in memory, and what
    the same connection does next (a sync in `touchlog poll`'s process) gets its own back."""
    db = database.obj
    if not isinstance(db, SqliteDatabase) or is_read_only():
        yield
        return
    before = int(db.execute_sql("PRAGMA temp_store").fetchone()[0])
    db.execute_sql("PRAGMA temp_store = MEMORY")
    try:
        yield
    finally:
        # A connection that cannot take this any more is not used again: the pass's own
        # error, if any, is the one to tell.
        with suppress(OperationalError, InterfaceError):
            if not db.is_closed():
                db.execute_sql(f"PRAGMA temp_store = {before}")


def _unwritable(db: SqliteDatabase, exc: Exception) -> bool:
    """SQLite says "readonly" for a read-only file, and "unable to open" for a file on a
    read-only filesystem (it cannot create the -shm beside it)."""
    text = str(exc)
    return "readonly" in text or ("unable to open" in text and Path(db.database).is_file())


def is_read_only() -> bool:
    """True when the bound database was opened read-only (see open_database)."""
    return bool(getattr(database.obj, "read_only", False))


def _read_only(db: SqliteDatabase) -> SqliteDatabase:
    """The same file, read-only. A WAL database needs its -shm file to be read that way; when
    no writer has it open there is none, and `immutable` is the only way left to read it."""
    db.close()
    path = quote(str(Path(db.database).resolve()))
    pragmas = {"foreign_keys": 1, "busy_timeout": SQLITE_PRAGMAS["busy_timeout"]}
    for mode in ("mode=ro", "immutable=1"):
        ro = _Sqlite(f"file:{path}?{mode}", uri=True, pragmas=pragmas)
        try:
            ro.connect()
            ro.execute_sql("SELECT count(*) FROM sqlite_master").fetchone()
        except OperationalError:
            ro.close()
            continue
        ro.read_only = True  # type: ignore[attr-defined]
        database.initialize(ro)
        return ro
    raise OperationalError("attempt to write a readonly database (and it cannot be read "
                           "read-only either)")


def _database_for(url: str) -> Database:
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if path != ":memory:":
            parent = Path(path).parent
            if not parent.is_dir():
                raise DatabaseError(f"database {redact_url(url)}: folder {parent} does not exist")
            # Made 0600 before SQLite makes it with the umask's mode: its -wal and -shm take
            # the database file's mode, so they are owner-only too (SPEC 20).
            touch_private(Path(path))
        return _Sqlite(path, pragmas=SQLITE_PRAGMAS)
    if url.startswith(("postgresql://", "postgres://")):
        from playhouse.db_url import parse

        params = parse(url)
        name = params.pop("database")
        return _Postgresql(name, autorollback=False, **params)
    raise DatabaseError(f"database {redact_url(url)}: only sqlite:/// and postgresql:// URLs "
                        "are supported")


class _Sqlite(SqliteDatabase):
    def execute_sql(self, sql: str, params: Any = None) -> Any:
        return super().execute_sql(sql, storable(params))


class _Postgresql(PostgresqlDatabase):
    """PostgreSQL text cannot hold NUL (0x00). Mail text arrives without it already (see
    poller.mail.message); this catches whatever else carries one (a CSV cell, a display name), which
    would otherwise fail with psycopg2's ValueError and leave the message failing every pass."""

    def execute_sql(self, sql: str, params: Any = None) -> Any:
        return super().execute_sql(sql, storable(params))


# The root causes a user can act on, as the drivers word them, and how touchlog says them.
_CAUSES = (
    ("database or disk is full", "disk full"),
    ("no space left on device", "disk full"),
    ("readonly database", "read-only (touchlog cannot write to it)"),
    ("read-only", "read-only (touchlog cannot write to it)"),
    ("database is locked", "locked by another process for over {busy} s"),
    ("server closed the connection", "connection lost"),
    ("connection already closed", "connection lost"),
    ("terminating connection", "connection lost"),
    ("could not receive data", "connection lost"),
    ("could not connect", "cannot connect"),
)


def database_error(url: str, exc: BaseException, doing: str = "") -> DatabaseError:
    """One line naming the real cause. A failed statement inside a transaction often surfaces
    as the rollback's own error ("cannot rollback - no transaction is active") with the cause
    as its context: look down the chain for it."""
    texts: list[str] = []
    seen: BaseException | None = exc
    while seen is not None and len(texts) < 5:
        texts.append(" ".join(str(seen).split()) or type(seen).__name__)
        seen = seen.__cause__ or seen.__context__
    for text in texts:
        for needle, cause in _CAUSES:
            if needle in text.lower():
                busy = f"{SQLITE_PRAGMAS['busy_timeout'] / 1000:g}"  # how long SQLite waited
                return DatabaseError(_line(url, doing, f"{cause.format(busy=busy)}: {text}"))
        if "disk i/o error" in text.lower() and _no_room(url):
            # SQLite's word when it cannot grow its -shm or -wal beside a full disk
            return DatabaseError(_line(url, doing, f"disk full: {text}"))
    useful = [t for t in texts if "no transaction is active" not in t]
    return DatabaseError(_line(url, doing, (useful or texts)[0]))


def _no_room(url: str) -> bool:
    if not url.startswith("sqlite:///"):
        return False
    try:
        room = os.statvfs(Path(url[len("sqlite:///"):]).parent)
    except OSError:
        return False
    return room.f_bavail * room.f_frsize < 1024 * 1024


def _line(url: str, doing: str, text: str) -> str:
    """The password of the URL is `***` here, in the URL and in whatever the driver quoted."""
    text = without_url_password(text, url)
    where = f"database {redact_url(url)}" if url else "database"
    return f"{where}: cannot {doing}: {text}" if doing else f"{where}: {text}"
