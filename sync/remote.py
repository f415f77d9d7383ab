"""A record read from Salesforce, checked field by field before touchlog uses it (SPEC 20).

Salesforce is input like mail: any user can write an Event, and an answer may come from a
misconfigured proxy or a changed API. Every field the queries of sync.soql ask for must be
there with the type Salesforce's describe gives it (text, a date, a date and time, true or
false, an object holding Email); anything else makes the record `Unusable`, with a reason
naming the field, which the run counts under errors and goes on. Text is kept as text: only
NUL and lone surrogates, which no database stores, become U+FFFD; nothing is interpreted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from core.ids import MAX_ID, parse_id
from core.salesforce_ids import is_id18
from core.text import storable

# Salesforce writes 2026-12-01T09:00:00.000+0000; the offset may also come as Z or +00:00.
_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:?\d\d)?")
_DATE = re.compile(r"\d{4}-\d\d-\d\d")
# SystemModstamp is Salesforce's own clock: one far ahead of ours would carry the watermark
# past every record still to come, so it is refused (a day covers any clock skew).
FUTURE = timedelta(days=1)
TEXT = "text"


class Unusable(Exception):
    """A record touchlog cannot use: `code` and `reason` for `sync status`, and what could be
    read of it (its Id, AccountId and SystemModstamp) to place it."""

    def __init__(self, code: str, reason: str, sf_id: str | None = None,
                 account: str | None = None, modstamp: datetime | None = None) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason
        self.sf_id, self.account, self.modstamp = sf_id, account, modstamp


@dataclass(frozen=True)
class Remote:
    """One Event or Task as read from Salesforce, in touchlog's terms."""

    id: str
    deleted: bool
    account: str  # AccountId
    claim: int | None  # the touchlog id its external id field names, when it names one
    bad_claim: str  # why the external id field names nothing touchlog makes ("" if it is fine)
    subject: str
    content: str
    occurred_at: datetime | None  # Events; None for Tasks
    priority: str
    status: str  # Open | Completed (Tasks)
    due_date: date | None
    owner: str  # Owner.Email, lower-case (Tasks)
    created_by: str
    created_at: datetime | None
    modified_by: str
    modified_at: datetime | None  # LastModifiedDate
    modstamp: datetime  # SystemModstamp: what the watermark follows


def quoted(value: Any, limit: int = 80) -> str:
    """A value in a reason: as JSON (its type shows, control characters escaped), cut short."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (RecursionError, ValueError):
        text = f"({kind_of(value)})"
    return storable(text if len(text) <= limit else text[:limit] + "…")


def kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return TEXT
    return "a list" if isinstance(value, list) else "an object"


class _Fields:
    """The checks, each raising Unusable with the record's Id, account and stamp once known."""

    def __init__(self, record: Mapping[str, Any]) -> None:
        self.record = record
        self.sf_id: str | None = None
        self.account: str | None = None
        self.modstamp: datetime | None = None

    def fail(self, reason: str, code: str = "unusable_field") -> Unusable:
        return Unusable(code, reason, self.sf_id, self.account, self.modstamp)

    def value(self, name: str) -> Any:
        if name not in self.record:
            raise self.fail(f"{name} is missing")
        return self.record[name]

    def text(self, name: str, value: Any = None, inner: bool = False) -> str:
        value = value if inner else self.value(name)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self.fail(f"{name} is {kind_of(value)}, not text")
        return storable(value)

    def id18(self, name: str, optional: bool = False) -> str:
        value = self.value(name)
        if value is None and optional:
            return ""
        text = self.text(name)
        if not is_id18(text):
            raise self.fail(f"{name} {quoted(value)} is not a Salesforce Id")
        return text

    def when(self, name: str, required: bool = False) -> datetime | None:
        text = self.text(name)
        if not text and not required:
            return None
        if not _DATETIME.fullmatch(text):
            raise self.fail(f"{name} is not a date and time")
        try:
            zoned = text.replace("Z", "+00:00")
            if zoned[-5] in "+-" and zoned[-3] != ":":
                zoned = zoned[:-2] + ":" + zoned[-2:]  # +0000 -> +00:00
            when = datetime.fromisoformat(zoned)
            return (when.astimezone(UTC) if when.tzinfo else when).replace(tzinfo=None)
        except (ValueError, OverflowError):
            raise self.fail(f"{name} is not a date and time") from None

    def day(self, name: str) -> date | None:
        text = self.text(name)
        if not text:
            return None
        try:
            if not _DATE.fullmatch(text):
                raise ValueError(text)
            return date.fromisoformat(text)
        except ValueError:
            raise self.fail(f"{name} is not a date") from None

    def flag(self, name: str) -> bool:
        value = self.value(name)
        if not isinstance(value, bool):
            raise self.fail(f"{name} is {kind_of(value)}, not true or false")
        return value

    def email(self, relation: str) -> str:
        """`CreatedBy.Email` and the like: null, or an object holding Email (text or null)."""
        nested = self.value(relation)
        if nested is None:
            return ""
        if not isinstance(nested, dict):
            raise self.fail(f"{relation} is {kind_of(nested)}, not an object")
        if "Email" not in nested:
            raise self.fail(f"{relation}.Email is missing")
        return self.text(f"{relation}.Email", nested["Email"], inner=True).lower()


def claim_of(value: Any, field: str) -> tuple[int | None, str]:
    """(the touchlog id the external id field names, or why it names none it could have)."""
    if value is None or value == "":
        return None, ""
    number = parse_id(value)
    if number is None:
        return None, (f"{field} {quoted(value)} is not a touchlog id (a whole number from 1 "
                      f"to {MAX_ID}, written without sign, spaces or leading zeros)")
    return number, ""


def read(record: Any, fields: Iterable[str], external_id_field: str, is_task: bool,
         now: datetime) -> Remote:
    """A record of sync.soql's EVENT_FIELDS or TASK_FIELDS (`fields`), checked; Unusable when
    a field is missing or not of its type. Id, AccountId and SystemModstamp come first, so an
    Unusable carries what places the record (its account: unlinked is skipped, not an error)."""
    if not isinstance(record, dict):
        raise Unusable("unusable_field", f"the record is {kind_of(record)}, not an object")
    f = _Fields(record)
    f.sf_id = f.id18("Id")
    f.account = f.id18("AccountId", optional=True)
    f.modstamp = f.when("SystemModstamp", required=True)
    if f.modstamp is not None and f.modstamp > now + FUTURE:
        modstamp, f.modstamp = f.modstamp, None
        raise f.fail(f"SystemModstamp is in the future ({modstamp:%Y-%m-%dT%H:%M:%SZ})")
    for name in fields:  # present, each of them, even those read no further
        f.value(name.split(".")[0])
    claim, bad_claim = claim_of(f.value(external_id_field), external_id_field)
    occurred = None
    if not is_task:
        occurred = f.when("ActivityDateTime")
        day = f.day("ActivityDate")
        if occurred is None and day is not None:
            occurred = datetime(day.year, day.month, day.day)
    closed = False
    if is_task:
        closed = f.flag("IsClosed")
        f.text("Status")  # read no further (IsClosed says it), but it must be text
    return Remote(
        id=f.sf_id, deleted=f.flag("IsDeleted"), account=f.account, claim=claim,
        bad_claim=bad_claim, subject=f.text("Subject"), content=f.text("Description"),
        occurred_at=occurred, priority=(f.text("Priority") or "Normal") if is_task else "Normal",
        status="Completed" if closed else "Open",
        due_date=f.day("ActivityDate") if is_task else None,
        owner=f.email("Owner") if is_task else "", created_by=f.email("CreatedBy"),
        created_at=f.when("CreatedDate"), modified_by=f.email("LastModifiedBy"),
        modified_at=f.when("LastModifiedDate"), modstamp=f.modstamp or datetime.min)
