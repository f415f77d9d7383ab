"""Suggestions for a failure (SPEC 22): the accounts the rules saw, from its stored trace, best
first, as `touchlog failures`, `failures show` and the web's `GET /review` show them.

Best first means:
1. the accounts a rule would have chosen but for a tie: of a step that ended
   `ambiguous_account`, those with its latest time (a contact's `last_activity`, or the latest
   touchpoint by the sender or by anyone at the sender's domain); none when no time was known;
2. then the other accounts the rules saw, the most recent time any step knew for them first;
3. then those with no time known, in the order the rules saw them (a step lists its accounts
   by id);
4. last, the accounts of a domain that take only their known contacts (`contact_matches_only`):
   the rules saw them but could not choose them, and assigning there with `--remember` is the
   fix the failure's detail gives.
An account removed from the directory since is left out: it cannot be assigned to.

The trace is read by poller.decide.trace, in each shape a version of touchlog stored; one that no
version wrote gives what can be read of it, never an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from core.reasons import AMBIGUOUS_ACCOUNT
from core.settings import Settings
from core.utc import naive_utc
from poller.decide.trace import seen_accounts
from poller.failed.folder import Failure, find_failure, list_failures
from store.directory.review import live_account_names

K = TypeVar("K")
_NEVER = datetime.min  # no time known: after every known one
Suggestion = tuple[str, str]  # (account_id, name)


def review_queue(settings: Settings) -> list[Failure]:
    """The failed folder with each failure's suggestions: `touchlog failures`, `GET /review`."""
    return with_suggestions(list_failures(settings))


def review_one(settings: Settings, uid: int) -> Failure:
    """One failure with its suggestions: `failures show UID`."""
    return with_suggestions([find_failure(settings, uid)])[0]


def with_suggestions(failures: Sequence[Failure]) -> list[Failure]:
    found = suggestions({f.uid: f.record.trace for f in failures if f.record is not None})
    return [replace(f, suggestions=found.get(f.uid, ())) for f in failures]


def suggestions(traces: Mapping[K, dict[str, Any] | None]) -> dict[K, tuple[Suggestion, ...]]:
    """Each trace's suggestions, best first; one directory query for all of them."""
    ranked = {key: ranked_accounts(trace or {}) for key, trace in traces.items()}
    names = live_account_names(acc for ids in ranked.values() for acc in ids)
    return {key: tuple((acc, names[acc]) for acc in ids if acc in names)
            for key, ids in ranked.items()}


def suggestion_text(found: Sequence[Suggestion], most: int | None = None) -> str:
    """`Initech Labs (INITECH2); Initech (INITECH)`, at most `most` of them then `+N more`.
    Names may hold commas (`Acme, Inc.`): a semicolon keeps them apart."""
    shown = [f"{name} ({acc})" if name else acc for acc, name in found[:most]]
    more = len(found) - len(shown)
    return "; ".join(shown) + (f"; +{more} more" if more else "")


def ranked_accounts(trace: dict[str, Any]) -> list[str]:
    """The ids of the accounts the trace's rule steps saw, best first (the module's order)."""
    order: dict[str, int] = {}
    latest: dict[str, datetime] = {}
    tied: set[str] = set()
    contacts_only: dict[str, None] = {}
    steps = trace.get("steps") if isinstance(trace, dict) else None
    for step in steps if isinstance(steps, list) else []:
        if not isinstance(step, dict):
            continue
        seen = _seen(step)
        for acc, when in seen:
            order.setdefault(acc, len(order))
            if when is not None and (acc not in latest or when > latest[acc]):
                latest[acc] = when
        if step.get("result") == AMBIGUOUS_ACCOUNT:
            tied |= _latest_of(seen)
        for acc in step.get("contacts_only") or ():
            contacts_only.setdefault(str(acc), None)
    # Newest first, ties in the order seen: sort by the order seen, then (stable) by time.
    best = sorted(order, key=order.__getitem__)
    best.sort(key=lambda a: latest.get(a, _NEVER), reverse=True)
    best.sort(key=lambda a: a not in tied)
    return best + [acc for acc in contacts_only if acc not in order]


def _seen(step: dict[str, Any]) -> list[tuple[str, datetime | None]]:
    """The step's accounts with the time it knew for each, read by poller.decide.trace."""
    try:
        found = seen_accounts(step)
    except (TypeError, AttributeError):  # `accounts` of a shape no version wrote
        return []
    return [(a.account_id, _time(a.last_activity or a.latest)) for a in found if a.account_id]


def _latest_of(seen: list[tuple[str, datetime | None]]) -> set[str]:
    times = [when for _, when in seen if when is not None]
    if not times:
        return set()
    top = max(times)
    return {acc for acc, when in seen if when == top}


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return naive_utc(when) if when.tzinfo is not None else when
