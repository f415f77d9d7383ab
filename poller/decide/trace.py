"""The accounts a decision's rule steps saw, in one typed shape: written here, read here.

A trace is stored as JSON with its touchpoint or failure and read back long after (`touchlog
explain`, `failures show`, the suggestions for `failures assign`). Each step's `accounts` is a
list of `SeenAccount` objects, `{"account_id": ..., ...}` with the keys its rule knows. Older
versions stored two other shapes, which `seen_accounts` still reads: a domain step's bare list of
account ids, and a history step's `{account_id: latest touchpoint}`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SeenAccount:
    """One account a rule step looked at, with what that rule knew of it."""

    account_id: str
    default_bcc: bool | None = None  # contact step: the association is the default
    last_activity: str | None = None  # contact step: the customer user's, ISO 8601
    latest: str | None = None  # history steps: its latest counted touchpoint, ISO 8601

    def as_json(self) -> dict[str, Any]:
        kept = {"default_bcc": self.default_bcc, "last_activity": self.last_activity,
                "latest": self.latest}
        return {"account_id": self.account_id,
                **{key: value for key, value in kept.items() if value is not None}}


def accounts_json(accounts: Iterable[SeenAccount]) -> list[dict[str, Any]]:
    """What a step stores under `accounts`."""
    return [account.as_json() for account in accounts]


def seen_accounts(step: dict[str, Any]) -> list[SeenAccount]:
    """A stored step's `accounts`, whichever version wrote it."""
    stored = step.get("accounts") or []
    if isinstance(stored, dict):  # a history step, as older versions stored it
        return [SeenAccount(str(acc), latest=_text(ts)) for acc, ts in stored.items()]
    seen: list[SeenAccount] = []
    for item in stored:
        if isinstance(item, dict):
            bcc = item.get("default_bcc")
            seen.append(SeenAccount(_account_id(item), bcc if isinstance(bcc, bool) else None,
                                    _text(item.get("last_activity")), _text(item.get("latest"))))
        else:  # a domain step, as older versions stored it
            seen.append(SeenAccount(_account_id(item)))
    return seen


def account_ids_seen(trace: dict[str, Any], contacts_only: bool = False) -> list[str]:
    """The accounts the rule steps saw, in the order seen, each once; `contacts_only` adds the
    accounts of a domain that take only their known contacts."""
    seen: dict[str, None] = {}
    for step in trace.get("steps", []):
        # As `seen_accounts` reads them, without a SeenAccount each; an older history step's
        # mapping gives its keys, the ids.
        for item in step.get("accounts") or ():
            seen.setdefault(_account_id(item), None)
        for acc in step.get("contacts_only", ()) if contacts_only else ():
            seen.setdefault(str(acc), None)
    return list(seen)


def _account_id(item: Any) -> str:
    """The id of an item of a step's `accounts`: a stored account, or a bare id."""
    return str(item.get("account_id", "")) if isinstance(item, dict) else str(item)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
