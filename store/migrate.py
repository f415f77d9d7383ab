"""A database made by an earlier touchlog keeps working: on open, what the models have and the
database lacks is added — tables, columns, indexes — and columns that became optional lose
their NOT NULL. Nothing is ever dropped but indexes the models replaced.

Cheap on every open: the models' schema has a fingerprint, kept in the database once it is up
to date, so an open reads one row unless the models changed. Two processes opening an old
database at once take turns (an IMMEDIATE transaction on SQLite, an advisory lock on
PostgreSQL), and the second finds nothing left to do.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

from peewee import (
    Database,
    Field,
    ForeignKeyField,
    ModelIndex,
    PostgresqlDatabase,
    SqliteDatabase,
)

from store.kept import KeptSecret
from store.models import KeptValue, Touchpoint
from store.schema import MODELS

if TYPE_CHECKING:
    from playhouse.migrate import SchemaMigrator

log = logging.getLogger(__name__)

FINGERPRINT = "schema"
# Indexes an earlier schema had that the models replaced: dropped on upgrade, so their names are
# never used again.
OBSOLETE_INDEXES = (
    # replaced by the partial indexes of store.models (same columns, live rows only)
    "touchpoint_creator_id_account_id_created_at",
    "touchpoint_creator_domain_account_id_created_at",
    "touchpoint_account_id_occurred_at",
    # replaced by tp_message_account (message_id, account)
    "touchpoint_message_id",
    # issue 22: fewer indexes for every logged message to keep. The foreign keys' own indexes go
    # (tp_sender_history and tp_account_type, full now, lead with their columns), and the
    # columns NULL in almost every row are indexed where set (tp_thread, tp_parent, tp_external).
    "touchpoint_account_id", "touchpoint_creator_id", "tp_live_sender_history",
    "tp_live_account_type", "touchpoint_thread_id", "touchpoint_parent_id",
    "touchpoint_external_id",
    # the ledger's Message-IDs: only twins' are looked up (rec_twin_message_id)
    "messagerecord_message_id")
_PG_LOCK = 0x746C6D67  # "tlmg": the advisory lock migrations take turns on


def upgrade(db: Database) -> set[str]:
    """Create what is missing and bring older tables up to the models; the names of the
    tables it created (none when the schema was up to date)."""
    wanted = fingerprint(db)
    if _current(db) == wanted:
        return set()
    with _exclusive(db):
        if _current(db) == wanted:  # another process did it while we waited
            return set()
        from playhouse.migrate import SchemaMigrator  # only when the schema changes

        existing = set(db.get_tables())
        migrator = SchemaMigrator.from_database(db)
        for model in MODELS:
            if model._meta.table_name in existing:
                _upgrade_table(db, migrator, model)
        for name in OBSOLETE_INDEXES:
            db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
        db.create_tables(MODELS, safe=True)
        if Touchpoint._meta.table_name in existing:
            _fill_creator_email(db)
        if KeptValue._meta.table_name in existing and KeptSecret._meta.table_name not in existing:
            _move_kept_secrets()
        KeptValue.insert(name=FINGERPRINT, value=wanted).on_conflict(
            conflict_target=[KeptValue.name], preserve=[KeptValue.value]).execute()
    log.info("database schema is up to date (%s)", wanted[:12])
    return set(db.get_tables()) - existing


def fingerprint(db: Database) -> str:
    """The models' tables, columns and indexes, hashed (once per process and kind of
    database: every command opens the database, and building the DDL would cost ~10 ms)."""
    kind = type(db).__name__
    if kind not in _fingerprints:
        parts = [kind]
        for model in MODELS:
            meta = model._meta
            parts.append(meta.table_name)
            parts += [f"{f.column_name}:{f.field_type}:{f.null}:{f.unique}:{f.index}"
                      for f in meta.sorted_fields]
            parts += [_index_text(db, index) for index in meta.indexes]
        _fingerprints[kind] = hashlib.sha256("\n".join(parts).encode()).hexdigest()
    return _fingerprints[kind]


_fingerprints: dict[str, str] = {}


def _index_text(db: Database, index: Any) -> str:
    if isinstance(index, ModelIndex):
        spec: Any = index  # its parts have no public names
        where = db.get_sql_context().sql(spec._where).query()[0] if spec._where else ""
        columns = [getattr(e, "column_name", str(e)) for e in spec._expressions]
        return f"{spec._name}:{columns}:{spec._unique}:{where}"
    return repr(index)


def _current(db: Database) -> str | None:
    if KeptValue._meta.table_name not in db.get_tables():
        return None
    row = KeptValue.get_or_none(KeptValue.name == FINGERPRINT)
    return row.value if row else None


@contextmanager
def _exclusive(db: Database) -> Iterator[None]:
    if isinstance(db, SqliteDatabase):
        # The table rebuilds of a NOT NULL drop must not fire foreign keys; the pragma only
        # takes effect outside a transaction.
        db.pragma("foreign_keys", 0)
        try:
            with db.atomic(lock_type="IMMEDIATE"):
                yield
        finally:
            db.pragma("foreign_keys", 1)
        return
    with db.atomic():
        if isinstance(db, PostgresqlDatabase):
            db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_PG_LOCK,))
        yield


def _upgrade_table(db: Database, migrator: SchemaMigrator, model: Any) -> None:
    table = model._meta.table_name
    columns = {c.name: c for c in db.get_columns(table)}
    for field in model._meta.sorted_fields:
        if field.column_name not in columns:
            _add_column(migrator, model, field)
        elif field.null and not columns[field.column_name].null \
                and not columns[field.column_name].primary_key:
            log.info("migrate: %s.%s becomes optional", table, field.column_name)
            migrator.drop_not_null(table, field.column_name).run()


def _add_column(migrator: SchemaMigrator, model: Any, field: Field) -> None:
    """Added as a nullable column, then filled with the default: no table rebuild on SQLite.
    Its indexes come with create_tables afterwards, under the models' own names."""
    table = model._meta.table_name
    log.info("migrate: adding %s.%s", table, field.column_name)
    column = field.clone()
    column.null, column.index, column.unique = True, False, False
    if isinstance(column, ForeignKeyField):
        # clone() keeps the model, not the resolved field
        column.rel_field = cast(ForeignKeyField, field).rel_field
    migrator.add_column(table, field.column_name, column).run()
    default = field.default() if callable(field.default) else field.default
    if default is not None:
        model.update({field: default}).execute()


def _move_kept_secrets() -> None:
    """Secrets an earlier touchlog kept beside the fingerprint, in clear, go where they are
    sealed (store.kept): with a key, on first use or by `touchlog keys rotate`."""
    earlier = KeptValue.select(KeptValue.name, KeptValue.value).where(
        KeptValue.name != FINGERPRINT)
    KeptSecret.insert_from(earlier, [KeptSecret.name, KeptSecret.value]).execute()
    KeptValue.delete().where(KeptValue.name != FINGERPRINT).execute()


def _fill_creator_email(db: Database) -> None:
    """Touchpoints of the previous schema name their creator only by the team member's id."""
    db.execute_sql(
        'UPDATE "touchpoint" SET "creator_email" = (SELECT LOWER("email") FROM "teammember" '
        'WHERE "teammember"."id" = "touchpoint"."creator_id") '
        "WHERE \"creator_email\" = '' AND \"creator_id\" IS NOT NULL")
