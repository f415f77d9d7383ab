"""The records of the fake Salesforce: a few sObjects, their fields, and what a write must obey.

Modelled on Salesforce's documented behaviour for Event and Task: 18-character Ids with a
prefix per object; AccountId read-only and derived from WhatId; Events need ActivityDateTime
and DurationInMinutes, or for an all-day Event (IsAllDayEvent) an ActivityDate and no time;
text fields refuse longer values with STRING_TOO_LONG; every write moves
LastModifiedDate and SystemModstamp (one timestamp per request, as one transaction in
Salesforce); deleted records keep IsDeleted = true in the recycle bin. See fake_salesforce.py
for where it differs from Salesforce.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
PREFIX = {"Account": "001", "Contact": "003", "User": "005", "Event": "00U", "Task": "00T"}


def id18(id15: str) -> str:
    """Salesforce's case-safe suffix: one character per 5, a bit for each upper-case letter."""
    suffix = ""
    for i in range(0, 15, 5):
        bits = sum(1 << j for j, c in enumerate(id15[i:i + 5]) if "A" <= c <= "Z")
        suffix += _SUFFIX[bits]
    return id15 + suffix


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # id | string | textarea | datetime | date | int | boolean | reference | picklist
    length: int = 0
    createable: bool = True
    updateable: bool = True
    external_id: bool = False
    references: str = ""  # for a reference: the sObject it points at ("" any)


_SYSTEM = [Field("Id", "id", 18, False, False), Field("IsDeleted", "boolean", 0, False, False),
           Field("CreatedDate", "datetime", 0, False, False),
           Field("CreatedById", "reference", 18, False, False, references="User"),
           Field("LastModifiedDate", "datetime", 0, False, False),
           Field("LastModifiedById", "reference", 18, False, False, references="User"),
           Field("SystemModstamp", "datetime", 0, False, False)]
_ACTIVITY = [Field("WhatId", "reference", 18),
             Field("WhoId", "reference", 18, references="Contact"),
             Field("AccountId", "reference", 18, False, False, references="Account"),
             Field("Subject", "string", 255), Field("Description", "textarea", 32000),
             Field("OwnerId", "reference", 18, references="User")]


def schema(external_id_field: str) -> dict[str, dict[str, Field]]:
    ext = Field(external_id_field, "string", 255, external_id=True)
    objects = {
        "Account": [Field("Name", "string", 255)],
        "User": [Field("Email", "string", 128), Field("Name", "string", 121),
                 Field("IsActive", "boolean")],
        "Contact": [Field("Email", "string", 80), Field("LastName", "string", 80),
                    Field("AccountId", "reference", 18, references="Account")],
        "Event": _ACTIVITY + [Field("ActivityDateTime", "datetime"), Field("ActivityDate", "date"),
                              Field("IsAllDayEvent", "boolean"),
                              Field("DurationInMinutes", "int"), ext],
        "Task": _ACTIVITY + [Field("ActivityDate", "date"),
                             Field("Priority", "picklist", 40), Field("Status", "picklist", 40),
                             Field("IsClosed", "boolean", 0, False, False), ext],
    }
    return {name: {f.name: f for f in _SYSTEM + fields} for name, fields in objects.items()}


TASK_STATUSES = {"Not Started": False, "In Progress": False, "Completed": True,
                 "Waiting on someone else": False, "Deferred": False}
TASK_PRIORITIES = ("High", "Normal", "Low")
RELATIONSHIPS = {"CreatedBy": "CreatedById", "LastModifiedBy": "LastModifiedById",
                 "Owner": "OwnerId", "What": "WhatId", "Who": "WhoId", "Account": "AccountId"}


class RecordError(Exception):
    """One record refused: Salesforce's statusCode, message and fields."""

    def __init__(self, code: str, message: str, fields: list[str] | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.fields = code, message, fields or []

    def as_json(self) -> dict[str, Any]:
        return {"statusCode": self.code, "message": self.message, "fields": self.fields}


class Store:
    def __init__(self, external_id_field: str, clock: Callable[[], datetime]) -> None:
        self.fields = schema(external_id_field)
        self.rows: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in self.fields}
        self.clock = clock
        self.external_id_field = external_id_field
        # (sObject, lower-case external id) -> Ids: upsert finds its match without a scan
        self.by_external: dict[tuple[str, str], set[str]] = {}
        self._serial = itertools.count(1)

    def new_id(self, sobject: str) -> str:
        n, digits = next(self._serial), ""
        for _ in range(10):
            n, r = divmod(n, 62)
            digits = _BASE62[r] + digits
        return id18(PREFIX[sobject] + "Dk" + digits)

    def find(self, record_id: str) -> tuple[str, dict[str, Any]] | None:
        for sobject, rows in self.rows.items():
            if record_id in rows:
                return sobject, rows[record_id]
        return None

    def insert(self, sobject: str, values: dict[str, Any], user: str,
               now: datetime | None = None) -> dict[str, Any]:
        now = now or self.clock()
        checked = self._checked(sobject, values, creating=True)
        row: dict[str, Any] = {name: None for name in self.fields[sobject]}
        row.update(Id=self.new_id(sobject), IsDeleted=False, CreatedDate=now, CreatedById=user)
        if sobject == "Task":
            row.update(Priority="Normal", Status="Not Started", OwnerId=user)
        if sobject == "Event":
            row.update(OwnerId=user, IsAllDayEvent=False)
        row.update(checked)
        self._derive(sobject, row, user, now)
        self.rows[sobject][row["Id"]] = row
        self._index(sobject, row)
        return row

    def _index(self, sobject: str, row: dict[str, Any]) -> None:
        key = str(row.get(self.external_id_field) or "").lower()
        if key:
            self.by_external.setdefault((sobject, key), set()).add(row["Id"])

    def matching(self, sobject: str, key: str) -> list[dict[str, Any]]:
        """Live records whose external id field holds `key` (case-insensitive, as Salesforce
        compares a text External ID that is not marked case-sensitive)."""
        ids = self.by_external.get((sobject, key.lower()), set())
        rows = [self.rows[sobject][i] for i in sorted(ids)]
        return [r for r in rows if not r["IsDeleted"]
                and str(r.get(self.external_id_field) or "").lower() == key.lower()]

    def update(self, sobject: str, record_id: str, values: dict[str, Any], user: str,
               now: datetime | None = None) -> dict[str, Any]:
        row = self.rows[sobject].get(record_id)
        if row is None:
            raise RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
        if row["IsDeleted"]:
            raise RecordError("ENTITY_IS_DELETED", "entity is deleted")
        row.update(self._checked(sobject, values, creating=False))
        self._derive(sobject, row, user, now or self.clock())
        self._index(sobject, row)
        return row

    def delete(self, record_id: str, user: str, now: datetime | None = None) -> None:
        found = self.find(record_id)
        if found is None:
            raise RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
        if found[1]["IsDeleted"]:
            raise RecordError("ENTITY_IS_DELETED", "entity is deleted")
        found[1].update(IsDeleted=True, SystemModstamp=now or self.clock(),
                        LastModifiedById=user)

    def _derive(self, sobject: str, row: dict[str, Any], user: str, now: datetime) -> None:
        row.update(LastModifiedDate=now, LastModifiedById=user, SystemModstamp=now)
        if sobject not in ("Event", "Task"):
            return
        what = row.get("WhatId") or ""
        row["AccountId"] = what if what.startswith(PREFIX["Account"]) else None
        if sobject == "Event" and row.get("IsAllDayEvent"):
            # An all-day Event has a date, no time (Salesforce's Event reference:
            # ActivityDateTime holds the due date only when IsAllDayEvent is false).
            row["ActivityDateTime"] = None
        elif sobject == "Event" and row.get("ActivityDateTime") is not None:
            row["ActivityDate"] = row["ActivityDateTime"].date()
        if sobject == "Task":
            row["IsClosed"] = TASK_STATUSES.get(row.get("Status") or "", False)

    def _checked(self, sobject: str, values: dict[str, Any], creating: bool) -> dict[str, Any]:
        fields, out = self.fields[sobject], {}
        for name, raw in values.items():
            spec = fields.get(name)
            if spec is None:
                raise RecordError("INVALID_FIELD",
                                  f"No such column '{name}' on sobject of type {sobject}")
            if not (spec.createable if creating else spec.updateable):
                raise RecordError("INVALID_FIELD_FOR_INSERT_UPDATE",
                                  f"Unable to create/update fields: {name}. Please check the "
                                  "security settings of this field and verify that it is "
                                  "read/write for your profile or permission set.", [name])
            out[name] = self._value(spec, raw)
        if sobject == "Event" and creating:
            when = "ActivityDate" if out.get("IsAllDayEvent") else "ActivityDateTime"
            missing = [n for n in (when, "DurationInMinutes") if out.get(n) is None]
            if missing:
                raise RecordError("REQUIRED_FIELD_MISSING",
                                  f"Required fields are missing: [{', '.join(missing)}]", missing)
        return out

    def _value(self, spec: Field, raw: Any) -> Any:
        if raw is None:
            return None
        if spec.type in ("string", "textarea", "picklist"):
            return self._text(spec, str(raw))
        if spec.type == "reference":
            return self._reference(spec, str(raw))
        if spec.type == "datetime":
            return _parse_datetime(spec.name, raw)
        if spec.type == "date":
            return _parse_date(spec.name, raw)
        if spec.type == "int":
            if not isinstance(raw, int) or isinstance(raw, bool):
                raise RecordError("INVALID_TYPE_ON_FIELD_IN_RECORD",
                                  f"{spec.name}: value not of required type: {raw}", [spec.name])
            return raw
        return bool(raw)

    def _text(self, spec: Field, text: str) -> str:
        if len(text) > spec.length:
            raise RecordError("STRING_TOO_LONG", f"{spec.name}: data value too large: "
                              f"{text[:40]}... (max length={spec.length})", [spec.name])
        if spec.name == "Priority" and text not in TASK_PRIORITIES:
            raise RecordError("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                              f"Priority: bad value for restricted picklist field: {text}",
                              [spec.name])
        if spec.name == "Status" and text not in TASK_STATUSES:
            raise RecordError("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                              f"Status: bad value for restricted picklist field: {text}",
                              [spec.name])
        return text

    def _reference(self, spec: Field, value: str) -> str:
        found = self.find(value)
        wanted = spec.references
        if found is None or found[1]["IsDeleted"] or (wanted and found[0] != wanted):
            if spec.name == "WhatId":
                raise RecordError("FIELD_INTEGRITY_EXCEPTION",
                                  f"Related To ID: id value of incorrect type: {value}",
                                  [spec.name])
            raise RecordError("INVALID_CROSS_REFERENCE_KEY",
                              f"invalid cross reference id: {value}", [spec.name])
        return value


def _parse_datetime(name: str, raw: Any) -> datetime:
    try:
        text = str(raw).replace("Z", "+00:00")
        if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
            text = text[:-2] + ":" + text[-2:]  # +0000 -> +00:00
        when = datetime.fromisoformat(text)
    except ValueError:
        raise RecordError("INVALID_TYPE_ON_FIELD_IN_RECORD",
                          f"{name}: value not of required type: {raw}", [name]) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # Salesforce reads a zone-less value as UTC
    return when.astimezone(UTC).replace(microsecond=when.microsecond // 1000 * 1000)


def _parse_date(name: str, raw: Any) -> date:
    try:
        return date.fromisoformat(str(raw)[:10])
    except ValueError:
        raise RecordError("INVALID_TYPE_ON_FIELD_IN_RECORD",
                          f"{name}: value not of required type: {raw}", [name]) from None


def to_json(value: Any) -> Any:
    """Salesforce's REST formats: 2026-12-01T09:00:00.000+0000 and 2026-12-01."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + \
            f"{value.microsecond // 1000:03d}+0000"
    if isinstance(value, date):
        return value.isoformat()
    return value
