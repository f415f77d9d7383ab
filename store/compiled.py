"""Statements compiled once: Peewee spends ~0.4 ms building a query's SQL and the indexed
lookup itself ~0.05 ms, so the per-message lookups build their SQL once with ":name" markers as
parameters and bind the real values on every call. Inserts of the per-message rows (record,
touchpoint, notice) are likewise one prepared INSERT per table, bound with each field's own
`db_value`, instead of Peewee building the INSERT in Python for every message (~0.9 ms)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar, cast

from peewee import DateTimeField, Field, ForeignKeyField, IntegerField, Model, TextField

from store.encryption.sealed import PLACEHOLDER, SEALING, seal_instance, sealed_fields
from store.models import database
from store.statements import execute

M = TypeVar("M", bound=Model)

_compiled: dict[tuple[object, ...], tuple[str, list[Any]]] = {}
_inserts: dict[tuple[object, ...], tuple[str, list[Any]]] = {}
_plans: dict[tuple[object, ...], _Plan] = {}


def run(key: tuple[object, ...], build: Callable[[], Any],
        values: dict[str, Any]) -> list[tuple[Any, ...]]:
    key = (*key, type(database.obj))
    if key not in _compiled:
        _compiled[key] = build().sql()
    sql, markers = _compiled[key]
    params = [values[m] if isinstance(m, str) and m in values else m for m in markers]
    return list(execute(database.obj, sql, params).fetchall())


def insert(model: type[M], **values: Any) -> M:
    """INSERT one row of `model` (every column: the given value, else the field's default) and
    return it as a model instance with its new primary key, as `model.create` would.

    Each value is bound as the field's `db_value` makes it, except where that is the value
    itself (`kept_as_is`). With encryption on, sealed columns go in as placeholders and are
    sealed, bound to the new row's id, by one prepared UPDATE in the same transaction (as
    store.encryption.sealed's save does)."""
    plan = _insert_plan(model)
    row = dict(plan.fixed)  # every column, in order
    for name, make in plan.made:
        if name not in values:
            row[name] = make()
    row.update(values)
    if len(row) != len(plan.fixed):  # a name that is no column is left out, as it always was
        row = {name: row[name] for name in plan.fixed}
    ring = SEALING.ring
    bind = plan.bind if ring is None else plan.bind_sealing
    params = [value if type(value) in same else to_db(value)
              for value, (same, to_db) in zip(row.values(), bind, strict=True)]
    cursor = execute(database.obj, plan.sql, params)
    pk: Any = model._meta.primary_key  # every model has one (peewee types it as maybe False)
    if pk.name not in row:
        row[pk.name] = cursor.fetchone()[0] if database.obj.returning_clause \
            else cursor.lastrowid
    instance = _instance(model, row)
    if ring is not None and plan.sealed:
        texts = seal_instance(instance, ring, plan.sealed)
        database.execute_sql(_seal_statement(model, plan.sealed),
                             [texts[n] for n in plan.sealed] + [row[pk.name]])
    return instance


def _instance(model: type[M], row: dict[str, Any]) -> M:
    """What `model(**row)` makes, clean (just written: nothing to save again), without Peewee
    calling a field accessor per column (a fifth of an insert's own time). A related row handed
    in as an instance is kept by its key, and cached, as the foreign-key accessor does."""
    instance: Any = model(__no_default__=True)
    instance.__data__.update(row)
    for name in _foreign_keys(model):
        value = row.get(name)
        if isinstance(value, Model):
            instance.__data__[name] = cast(Any, value)._pk
            instance.__rel__[name] = value
    return cast(M, instance)


_FOREIGN_KEYS: dict[type[Model], tuple[str, ...]] = {}


def _foreign_keys(model: type[Model]) -> tuple[str, ...]:
    found = _FOREIGN_KEYS.get(model)
    if found is None:
        meta: Any = model._meta
        found = _FOREIGN_KEYS[model] = tuple(f.name for f in meta.sorted_fields
                                             if isinstance(f, ForeignKeyField))
    return found


def _seal_statement(model: type[Model], names: list[str]) -> str:
    db = database.obj
    key = ("seal", model, tuple(names), type(db))
    if key not in _inserts:
        meta: Any = model._meta
        sets = ", ".join(f"{_quoted(db, meta.fields[n].column_name)} = {db.param}" for n in names)
        _inserts[key] = (f"UPDATE {_quoted(db, meta.table_name)} SET {sets} WHERE "
                         f"{_quoted(db, meta.primary_key.column_name)} = {db.param}", [])
    return _inserts[key][0]


class _Plan:
    """One model's INSERT, and how each column's value is bound: as it is when its type is one
    `kept_as_is` names, else through the field's db_value; with encryption on, a sealed column
    as the placeholder. Before: peewee's db_value for every column, 39 calls a note."""

    def __init__(self, model: type[Model], db: Any) -> None:
        meta: Any = model._meta
        auto = meta.auto_increment
        fields = [f for f in meta.sorted_fields if not (auto and f is meta.primary_key)]
        columns = ", ".join(_quoted(db, f.column_name) for f in fields)
        marks = ", ".join(db.param for _ in fields)
        self.sql = f"INSERT INTO {_quoted(db, meta.table_name)} ({columns}) VALUES ({marks})"
        if auto and db.returning_clause:
            self.sql += f" RETURNING {_quoted(db, meta.primary_key.column_name)}"
        self.fixed = {f.name: None if callable(f.default) else f.default for f in fields}
        self.made = tuple((f.name, f.default) for f in fields if callable(f.default))
        sealed = {f.name for f in sealed_fields(model)}
        self.sealed = [f.name for f in fields if f.name in sealed]
        self.bind = tuple((kept_as_is(f), f.db_value) for f in fields)
        self.bind_sealing = tuple((frozenset(), _placeholder) if f.name in sealed else b
                                  for f, b in zip(fields, self.bind, strict=True))


def _placeholder(value: Any) -> str:
    return PLACEHOLDER


def _insert_plan(model: type[Model]) -> _Plan:
    db = database.obj
    key = (model, type(db))
    plan = _plans.get(key)
    if plan is None:
        plan = _plans[key] = _Plan(model, db)
    return plan


def kept_as_is(field: Any) -> frozenset[type]:
    """The types of value `field.db_value` returns unchanged: None and str for peewee's own
    text columns (str() of a str is itself), None and int for its integers (int() of an int;
    not bool, which int() changes), None and datetime for its times (only a string is parsed),
    and for a foreign key those of the key it refers to (a plain value is no model instance).
    Only where the field's class keeps peewee's own methods: any other (JSON, a subclass with
    its own db_value or adapt) is asked every time."""
    cls = type(field)
    if cls.db_value is ForeignKeyField.db_value:
        return kept_as_is(field.rel_field)
    if cls.db_value is not Field.db_value:
        return frozenset()
    for adapt, kind in ((TextField.adapt, str), (IntegerField.adapt, int),
                        (DateTimeField.adapt, datetime)):
        if cls.adapt is adapt:
            return frozenset({type(None), kind})
    return frozenset()


def _quoted(db: Any, name: str) -> str:
    return f"{db.quote[0]}{name}{db.quote[1]}"

