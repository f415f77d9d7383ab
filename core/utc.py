"""Time as touchlog stores and shows it, in one place: naive UTC in the database (SQLite and
PostgreSQL agree on it), ISO 8601 with a trailing `Z` on the way out."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import overload


def utcnow() -> datetime:
    """Now, as the database holds it: naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


@overload
def naive_utc(value: datetime) -> datetime: ...
@overload
def naive_utc(value: None) -> None: ...
def naive_utc(value: datetime | None) -> datetime | None:
    """An aware time converted to UTC without tzinfo; a naive one is taken as UTC already."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


@overload
def aware_utc(value: datetime) -> datetime: ...
@overload
def aware_utc(value: None) -> None: ...
def aware_utc(value: datetime | None) -> datetime | None:
    """The other way, for times read from mail: a time without a zone is taken as UTC rather
    than as the worker's local time."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso_utc(value: datetime | None) -> str | None:
    """`2026-11-02T14:30:00Z`: whole seconds, UTC, what every JSON field and table shows."""
    if value is None:
        return None
    return naive_utc(value).replace(microsecond=0).isoformat() + "Z"


def parse_when(text: str, end_of_day: bool = False) -> datetime:
    """An ISO 8601 date or date-time as naive UTC, as people give one (`--date`, `--since`, a
    form's `date`): a time without a zone is UTC; a date alone is its midnight, or with
    `end_of_day` its last moment, so "until 2026-11-02" takes in the whole day. ValueError
    says what a date looks like."""
    text = text.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            if end_of_day:
                return datetime.combine(day, time()) + timedelta(days=1, microseconds=-1)
            return datetime.combine(day, time())
        return naive_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise ValueError(f"{text!r} is not a date (2026-11-02) or a date and time "
                         "(2026-11-02T14:30Z)") from None
