"""The customer directory and the team, as the resolution rules and the pipeline read them.

`SqlDirectory` implements core.directory.Directory with one indexed query per lookup (the
plans are checked in tests/test_resolve.py). The CSV imports of SPEC section 10 that fill it live
in store.directory: import_accounts, import_users and import_team.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from peewee import fn

from core.directory import Link
from core.errors import NotFound, TouchlogError
from store import compiled
from store.models import (
    Account,
    AccountDomain,
    Association,
    CustomerUser,
    TeamAlias,
    TeamMember,
    Touchpoint,
    tuples,
)

# SQLite allows 32,766 bound variables and PostgreSQL 65,535; an account list is far shorter.
_MAX_IDS = 10_000


def require_account(account_id: str, live: bool = False) -> Account:
    """The account a command was given (`--account ID`); an unknown id is an error naming it,
    never an empty answer that reads as "no touchpoints yet". A removed account (import
    accounts --replace) is still found for reading its history; `live` refuses it (to write)."""
    account = Account.get_or_none(Account.account_id == account_id)
    if account is not None and live and account.removed_at is not None:
        raise TouchlogError(f"account {account_id!r} was removed from the directory on "
                            f"{account.removed_at:%Y-%m-%d} (import accounts --replace)")
    if account is not None:
        return account
    ids = [acc for (acc,) in tuples(Account.select(Account.account_id))]
    close = difflib.get_close_matches(account_id, ids, n=3, cutoff=0.6)
    close += [acc for acc in ids if acc.lower() == account_id.lower() and acc not in close]
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise NotFound(f"no account {account_id!r} in the directory{hint}")


class SqlDirectory:
    """Lookups over the database the models are bound to (store.db.open_database)."""

    def __init__(self, case_sensitive_local_part: bool = False) -> None:
        self.case_sensitive_local_part = case_sensitive_local_part
        self._team: dict[str, TeamMember] | None = None

    # --- core.directory.Directory -----------------------------------------------------------

    def contact_accounts(self, address: str) -> list[Link]:
        """The accounts of a known customer user; `address` is already normalized."""
        rows = self._run(("contact", self.case_sensitive_local_part), self._contact_query,
                         {":address": address})
        return [Link(acc, _as_datetime(when), bool(default), name or "")
                for acc, when, default, name in rows]

    def domain_accounts(self, domain: str) -> list[str]:
        """Accounts declaring `domain` or having a customer user at it, minus the
        contact_matches_only ones, sorted."""
        rows = self._run(("domain",), _domain_query, {":domain": domain.lower()})
        return [acc for (acc,) in rows]

    def contacts_only_accounts(self, domain: str) -> list[str]:
        """Accounts at `domain` (declared or by a customer user) that take only their known
        contacts: what the domain pass left out, so a failure can say why."""
        rows = self._run(("contacts_only",), partial(_domain_query, True),
                         {":domain": domain.lower()})
        return [acc for (acc,) in rows]

    def sender_history(self, creator_id: int, account_ids: Sequence[str]) -> dict[str, datetime]:
        """The latest touchpoint this team member created on each of `account_ids`."""
        return self._latest("sender", account_ids, {":creator": creator_id})

    def domain_history(self, domain: str, account_ids: Sequence[str],
                       since: datetime) -> dict[str, datetime]:
        """The latest touchpoint anyone at `domain` created on each account, from `since` on."""
        return self._latest("domain_history", account_ids,
                            {":domain": domain.lower(), ":since": since})

    # --- the rest of the directory -------------------------------------------------------------

    def account_names(self, ids: Sequence[str]) -> dict[str, str]:
        names: dict[str, str] = {}
        for chunk in _chunks(list(dict.fromkeys(ids))):
            markers = {f":id{i}": acc for i, acc in enumerate(chunk)}
            query = partial(Account.select(Account.account_id, Account.name).where,
                            Account.account_id.in_(list(markers)))
            names.update(self._run(("names", len(chunk)), query, markers))
        return names

    def team_member(self, address: str) -> TeamMember | None:
        """The team member with this address or alias (case-insensitive); the member, not the
        alias."""
        return self._team_by_address().get(address.strip().strip("<>").lower())

    def team_addresses(self) -> frozenset[str]:
        """Every team member's address and alias, lower-case: all internal addresses."""
        return frozenset(self._team_by_address())

    def _team_by_address(self) -> dict[str, TeamMember]:
        """The team is small: read once per directory (one poll pass), members and aliases."""
        if self._team is None:
            members = {m.id: m for m in TeamMember.select()}
            self._team = {m.email.lower(): m for m in members.values()}
            for alias in TeamAlias.select():
                self._team.setdefault(alias.email.lower(), members[alias.member_id])
        return self._team

    # --- the statements, compiled once --------------------------------------------------------

    def _run(self, key: tuple[object, ...], build: Callable[[], Any],
             values: dict[str, Any]) -> list[tuple[Any, ...]]:
        return compiled.run(key, build, values)

    def _contact_query(self) -> Any:
        column = CustomerUser.email if self.case_sensitive_local_part else CustomerUser.email_lower
        return (Association
                .select(Association.account, Association.last_activity,
                        Account.default_bcc, Account.name)
                .join(CustomerUser).switch(Association).join(Account)
                .where(column == ":address")
                .order_by(Association.account))

    def _latest(self, kind: str, account_ids: Sequence[str],
                values: dict[str, Any]) -> dict[str, datetime]:
        result: dict[str, datetime] = {}
        for chunk in _chunks(list(account_ids)):
            ids = {f":id{i}": acc for i, acc in enumerate(chunk)}
            rows = self._run((kind, len(chunk)), partial(_latest_query, kind, list(ids)),
                             {**values, **ids})
            for acc, when in rows:
                moment = _as_datetime(when)
                if moment is not None:
                    result[acc] = moment
        return result


class PassDirectory(SqlDirectory):
    """The directory as one poll pass reads it: each address's and domain's accounts asked once.

    A pass asks the same customers' links again and again (a query each, ~20 µs of the pass's
    process on a loaded machine; half of the bench's notes name a customer seen before). What
    the directory holds is changed only by the imports and the review queue, never by the pass
    itself, so the pass answers from its own reading, as it already does for the team: a contact
    added while a pass runs counts from the next pass on. The history tie-breaks read what this
    pass commits, and are always asked."""

    LIMIT = 20_000  # entries kept; a pass over more distinct addresses starts afresh

    def __init__(self, case_sensitive_local_part: bool = False) -> None:
        super().__init__(case_sensitive_local_part)
        self._seen: dict[tuple[str, str], Any] = {}

    def contact_accounts(self, address: str) -> list[Link]:
        return list(self._remembered("contact", address, super().contact_accounts))

    def domain_accounts(self, domain: str) -> list[str]:
        return list(self._remembered("domain", domain, super().domain_accounts))

    def contacts_only_accounts(self, domain: str) -> list[str]:
        return list(self._remembered("only", domain, super().contacts_only_accounts))

    def _remembered(self, kind: str, key: str, ask: Callable[[str], list[Any]]) -> tuple[Any, ...]:
        found = self._seen.get((kind, key))
        if found is None:
            if len(self._seen) >= self.LIMIT:
                self._seen.clear()
            found = self._seen[(kind, key)] = tuple(ask(key))
        return found


def _domain_query(contacts_only: bool = False) -> Any:
    declared = AccountDomain.select(AccountDomain.account).where(AccountDomain.domain == ":domain")
    used = (Association.select(Association.account).join(CustomerUser)
            .where(CustomerUser.domain == ":domain"))
    return (Account.select(Account.account_id)
            .where(Account.account_id.in_(declared | used),
                   Account.contact_matches_only == contacts_only)
            .order_by(Account.account_id))


def _latest_query(kind: str, id_markers: list[str]) -> Any:
    # Grouped MAX over (creator|creator_domain, account, created_at): an index-only scan that
    # skips the tombstones in the index (tp_sender_history, tp_live_domain_history). A deleted
    # touchpoint was a mistake and never steers mail; an internal note counts: it is still the
    # sender's work on that account.
    if kind == "sender":
        condition = Touchpoint.creator == ":creator"
    else:
        condition = (Touchpoint.creator_domain == ":domain") & (Touchpoint.created_at >= ":since")
    return (Touchpoint.select(Touchpoint.account, fn.MAX(Touchpoint.created_at))
            .where(condition, Touchpoint.account.in_(id_markers), Touchpoint.deleted_at.is_null())
            .group_by(Touchpoint.account))


def _as_datetime(value: datetime | str | None) -> datetime | None:
    """SQLite hands back text from an aggregate; PostgreSQL a datetime."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def _chunks(items: list[str], size: int = _MAX_IDS) -> list[list[str]]:
    return [items[i:i + size] for i in range(0, len(items), size)]
