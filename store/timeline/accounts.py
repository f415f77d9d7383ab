"""Each account's touches at a glance (`touchlog accounts`): last touch, touches, notes.

An internal note is not a touch (SPEC 13): it counts in `notes` and moves neither `touches` nor
`last_touch`. A deleted touchpoint counts nowhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from peewee import fn

from core.utc import iso_utc
from store.models import INTERNAL_NOTE, Account, Touchpoint, tuples


def summary(account_id: str | None = None, matching: str = "") -> list[dict[str, Any]]:
    """Every account in the directory (or the one asked for), sorted by id, with what its live
    touchpoints add up to. An account removed by `import accounts --replace` is left out of the
    list; asked for by id, its history is still shown. `matching` keeps the accounts whose name
    or id contains it, in any case (the web's `GET /accounts?q=`)."""
    totals = _totals(account_id)
    wanted = matching.strip().casefold()
    accounts = Account.select(Account.account_id, Account.name).order_by(Account.account_id)
    if account_id is not None:
        accounts = accounts.where(Account.account_id == account_id)
    else:
        accounts = accounts.where(Account.removed_at.is_null())
    rows = []
    for acc in accounts:
        if wanted and wanted not in acc.name.casefold() and wanted not in acc.account_id.casefold():
            continue
        touches, last, notes = totals.get(acc.account_id, (0, None, 0))
        rows.append({"account_id": acc.account_id, "name": acc.name,
                     "last_touch": iso_utc(last), "touches": touches, "notes": notes})
    return rows


def last_touch(account_id: str) -> tuple[datetime | None, int]:
    """When the account was last touched, and how many touches it has (internal notes aside)."""
    touches, last, _ = _totals(account_id).get(account_id, (0, None, 0))
    return last, touches


def last_touch_at(account_id: str) -> datetime | None:
    """When the account was last touched (internal notes aside), without counting: the newest
    live row of the (account, occurred_at) index that is no note, a probe or two however long
    the account's history (the web's timeline heads its page with it)."""
    newest = (Touchpoint.select(Touchpoint.occurred_at)
              .where(Touchpoint.account == account_id, Touchpoint.deleted_at.is_null(),
                     Touchpoint.type != INTERNAL_NOTE)
              .order_by(Touchpoint.occurred_at.desc(), Touchpoint.id.desc()).limit(1))
    return next((_as_datetime(at) for (at,) in tuples(newest)), None)


def _totals(account_id: str | None) -> dict[str, tuple[int, datetime | None, int]]:
    """One grouped pass over the (account, type, occurred_at) index, its tombstones skipped in
    the index."""
    query = (Touchpoint.select(Touchpoint.account, Touchpoint.type, fn.COUNT(Touchpoint.id),
                               fn.MAX(Touchpoint.occurred_at))
             .where(Touchpoint.deleted_at.is_null())
             .group_by(Touchpoint.account, Touchpoint.type))
    if account_id is not None:
        query = query.where(Touchpoint.account == account_id)
    totals: dict[str, tuple[int, datetime | None, int]] = {}
    rows = cast(Iterable[tuple[str, str, int, Any]], query.tuples())
    for acc, kind, count, latest in rows:
        touches, last, notes = totals.get(acc, (0, None, 0))
        if kind == INTERNAL_NOTE:
            notes += count
        else:
            touches += count
            latest = _as_datetime(latest)
            last = latest if last is None or (latest and latest > last) else last
        totals[acc] = (touches, last, notes)
    return totals


def _as_datetime(value: datetime | str | None) -> datetime | None:
    """SQLite hands back text from an aggregate; PostgreSQL a datetime."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)
