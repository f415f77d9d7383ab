"""The `remembered` step of a trace (SPEC 22): on `failures assign … --remember`, who taught the
directory which customer addresses, on which account, and which were left alone and why.

poller.failed.learn writes the step after the `manual` one; `explain` reads it through
`remembered_line`. It has no `accounts` key, so nothing that lists the accounts a rule saw
mistakes it for a rule. Pure (the step's shape and its words), so it lives in core, beside the
names of every other step.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from core.utc import iso_utc

REMEMBERED = "remembered"

# Why a customer candidate was not remembered (the `why` of a `left_out` entry).
PLUS_REJECTED = "plus_rejected"
NOT_AN_ADDRESS = "not_an_address"
INTERNAL = "internal"
TOO_MANY = "too_many"
UNVERIFIED_SENDER = "unverified_sender"
_WHY = {PLUS_REJECTED: "it has a +extension (plus_addresses = reject: never looked up)",
        NOT_AN_ADDRESS: "it is not an address a contact can have",
        INTERNAL: "it is internal (the mailbox, the team or an internal domain)",
        TOO_MANY: "more customer addresses than one message may teach",
        UNVERIFIED_SENDER: "the message's sender is no established team member, and a "
                           "stranger's mail teaches the directory nothing"}


def remembered_step(by: str, at: datetime, account_id: str, last_activity: datetime | None,
                    added: Sequence[str], known: dict[str, list[str]],
                    left_out: Sequence[tuple[str, str]]) -> dict[str, Any]:
    return {"rule": REMEMBERED, "by": by, "at": iso_utc(at), "account_id": account_id,
            "last_activity": iso_utc(last_activity), "added": list(added),
            "known": {address: list(accounts) for address, accounts in known.items()},
            "left_out": [{"address": address, "why": why} for address, why in left_out]}


def remembered_line(step: dict[str, Any], names: dict[str, str]) -> str:
    """The step in words, e.g. `remembered by ann@ourco.com at 2026-11-03 09:00 on Roadrunner
    Inc (ROAD): jill@cust.com is now its contact (last activity 2026-11-02 14:30), …`."""
    account = _label(str(step.get("account_id") or "?"), names)
    parts = []
    added = step.get("added") or []
    if added:
        plural = len(added) > 1
        parts.append(f"{', '.join(map(str, added))} {'are' if plural else 'is'} now its "
                     f"contact{'s' if plural else ''} (last activity "
                     f"{_when(step.get('last_activity'))}), so their next mail resolves by "
                     "contact")
    known = step.get("known")
    for address, accounts in (known.items() if isinstance(known, dict) else ()):
        shown = ", ".join(_label(str(acc), names) for acc in accounts or ())
        parts.append(f"{address} was already a customer user (of {shown}), left as it was")
    for item in step.get("left_out") or []:
        if not isinstance(item, dict):
            continue
        why = _WHY.get(str(item.get("why")), str(item.get("why")))
        parts.append(f"{item.get('address')} not remembered: {why}")
    said = "; ".join(parts) or "no customer address to remember"
    return f"remembered by {step.get('by') or '?'} at {_when(step.get('at'))} on {account}: {said}"


def _label(account_id: str, names: dict[str, str]) -> str:
    name = names.get(account_id)
    return f"{name} ({account_id})" if name else account_id


def _when(value: Any) -> str:
    """`2026-11-02T14:30:00Z` → `2026-11-02 14:30` (UTC)."""
    return str(value).replace("T", " ")[:16] if value else "unknown"
