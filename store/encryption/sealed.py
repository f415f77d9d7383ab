"""Columns stored encrypted when `database.encryption_key_file` is set (SPEC 12).

A sealed column holds `tl1:…` in the database and plain text on the model instance: the accessor
opens it on read, `SealedModel.save` seals it on write, bound to the row's primary key. A row
whose key the database assigns is inserted with empty placeholders and sealed in the same
transaction, once its id is known. Query paths that bypass model instances (`.dicts()`, bulk
`update`) would see or write ciphertext: store code reads and writes these columns only through
instances.
"""

from __future__ import annotations

import json
from typing import Any

from peewee import FieldAccessor, TextField

from core.jsontext import json_text
from store.encryption.keyring import SEALED_PREFIX, KeyRing, SealError, is_sealed

PLACEHOLDER = SEALED_PREFIX  # an empty sealed value, only ever seen inside one transaction


class Sealing:
    """The key ring of this process, set when the database is opened (None: encryption off)."""

    ring: KeyRing | None = None


SEALING = Sealing()


def place(instance: Any, name: str) -> str:
    return f"{instance._meta.table_name}.{name}.{instance._pk}"


class _SealedAccessor(FieldAccessor):
    def __get__(self, instance: Any, instance_type: Any = None) -> Any:
        if instance is None:
            return self.field
        value = instance.__data__.get(self.name)
        if not is_sealed(value):
            return value
        ring = SEALING.ring
        if ring is None:
            raise SealError(f"{place(instance, self.name)} is encrypted and "
                            "database.encryption_key_file is not set")
        return self.field.from_plain(ring.open_text(value, place(instance, self.name)))


class SealedTextField(TextField):
    accessor_class = _SealedAccessor

    def to_plain(self, value: Any) -> str:
        return "" if value is None else str(value)

    def from_plain(self, text: str) -> Any:
        return text


class SealedJSONField(SealedTextField):
    """JSON text, sealed whole (participants with their names, traces, run errors)."""

    def db_value(self, value: Any) -> str | None:
        if value is None or is_sealed(value):
            return value
        return json_text(value)

    def python_value(self, value: str | None) -> Any:
        if value is None or is_sealed(value):
            return value
        return json.loads(value)

    def to_plain(self, value: Any) -> str:
        return json_text(value)

    def from_plain(self, text: str) -> Any:
        return json.loads(text)


_SEALED: dict[Any, tuple[SealedTextField, ...]] = {}  # a model's columns never change


def sealed_fields(model: Any) -> tuple[SealedTextField, ...]:
    found = _SEALED.get(model)
    if found is None:
        found = _SEALED[model] = tuple(f for f in model._meta.sorted_fields
                                       if isinstance(f, SealedTextField))
    return found


def seal_instance(instance: Any, ring: KeyRing, names: list[str]) -> dict[str, str]:
    """The sealed text of each named column of `instance`, bound to its row."""
    fields = {f.name: f for f in sealed_fields(type(instance))}
    return {name: ring.seal_text(fields[name].to_plain(getattr(instance, name)),
                                 place(instance, name)) for name in names}


class SealedMixin:
    """Mixed into a model with sealed columns: `save` seals them when a key ring is set."""

    def save(self, force_insert: bool = False, only: Any = None) -> Any:
        ring = SEALING.ring
        if ring is None:
            return super().save(force_insert=force_insert, only=only)  # type: ignore[misc]
        data = self.__data__  # type: ignore[attr-defined]
        names = [f.name for f in sealed_fields(type(self))
                 if f.name in data and not is_sealed(data[f.name])]
        plain = {name: data[name] for name in names}
        if self._pk is None:  # type: ignore[attr-defined]
            data.update(dict.fromkeys(names, PLACEHOLDER))
            saved = super().save(force_insert=force_insert, only=only)  # type: ignore[misc]
            data.update(plain)
            sealed = seal_instance(self, ring, names)
            _update_row(type(self), self._pk, sealed)  # type: ignore[attr-defined]
            return saved
        sealed = seal_instance(self, ring, names)
        data.update(sealed)
        try:
            return super().save(force_insert=force_insert, only=only)  # type: ignore[misc]
        finally:
            data.update(plain)


_UPDATES: dict[tuple[Any, ...], str] = {}


def _update_row(model: Any, pk: Any, values: dict[str, str]) -> None:
    """UPDATE one row's sealed columns by primary key. The SQL is built once per table and
    column set: Peewee building an UPDATE costs more than the AES-GCM of a whole message."""
    db = model._meta.database
    real = getattr(db, "obj", db)  # through the models' DatabaseProxy, or bound directly
    names = tuple(values)
    key = (type(real), model, names)
    if key not in _UPDATES:
        q, p = real.quote, real.param

        def name(n: str) -> str:
            return f"{q[0]}{n}{q[1]}"

        columns = ", ".join(f"{name(model._meta.fields[n].column_name)} = {p}" for n in names)
        _UPDATES[key] = (f"UPDATE {name(model._meta.table_name)} SET {columns} "
                         f"WHERE {name(model._meta.primary_key.column_name)} = {p}")
    db.execute_sql(_UPDATES[key], [values[n] for n in names] + [pk])
