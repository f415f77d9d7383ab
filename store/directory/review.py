"""What the review queue (SPEC 22) reads and writes of the directory: the accounts a failure can
still be assigned to, and the customer users a `failures assign … --remember` adds.

A learned contact is a customer user like an imported one: `import users --replace` removes it
when the file does not list it, as it removes any other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.addresses import domain_of
from store.models import Account, Association, CustomerUser, database, tuples

# SQLite allows 32,766 bound variables; a page of failures names far fewer accounts.
_CHUNK = 5_000


def live_account_names(ids: Iterable[str]) -> dict[str, str]:
    """The name of each of `ids` that is an account of the directory today; an unknown or removed
    one (import accounts --replace) is left out: nothing can be assigned to it.

    Written as SQL: Peewee spends ~6 ms building an IN of 1,000 values, the lookup itself ~0.3 ms,
    and the review queue of 1,000 failures asks for that many."""
    wanted = list(dict.fromkeys(ids))
    db = database.obj
    meta: Any = Account._meta

    def name(field: Any) -> str:
        return f"{db.quote[0]}{field.column_name}{db.quote[1]}"

    head = (f"SELECT {name(Account.account_id)}, {name(Account.name)} FROM "
            f"{db.quote[0]}{meta.table_name}{db.quote[1]} WHERE {name(Account.removed_at)} IS NULL "
            f"AND {name(Account.account_id)} IN ")
    names: dict[str, str] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start:start + _CHUNK]
        marks = ", ".join([db.param] * len(chunk))
        names.update(database.execute_sql(f"{head}({marks})", chunk).fetchall())
    return names


@dataclass
class Learnt:
    """What `add_contacts` did: the addresses it added, and the ones it left as they were with
    the accounts they are customer users of."""

    added: list[str] = field(default_factory=list)
    known: dict[str, list[str]] = field(default_factory=dict)


def add_contacts(account_id: str, addresses: Sequence[str], last_activity: datetime | None,
                 case_sensitive_local_part: bool = False) -> Learnt:
    """Make each of `addresses` that is not yet a customer user (of any account) one of
    `account_id`, with `last_activity`. One already associated with some account is left as it
    is. Run inside the caller's transaction; safe against another writer adding the same person
    meanwhile (insert, and on conflict keep theirs)."""
    learnt = Learnt()
    for address in dict.fromkeys(addresses):
        users = _customer_users(address, case_sensitive_local_part)
        accounts = _accounts_of(users)
        if accounts:
            learnt.known[address] = accounts
            continue
        if not users:
            CustomerUser.insert(email=address, email_lower=address.lower(),
                                domain=domain_of(address)).on_conflict_ignore().execute()
            users = [CustomerUser.get(CustomerUser.email == address)]
        Association.insert(user=users[0].id, account=account_id,
                           last_activity=last_activity).on_conflict_ignore().execute()
        learnt.added.append(address)
    return learnt


def _customer_users(address: str, case_sensitive_local_part: bool) -> list[CustomerUser]:
    """The customer users `address` is, as the contact pass compares addresses (several
    spellings when the setting was once case-sensitive)."""
    column = CustomerUser.email if case_sensitive_local_part else CustomerUser.email_lower
    wanted = address if case_sensitive_local_part else address.lower()
    return list(CustomerUser.select().where(column == wanted).order_by(CustomerUser.id))


def _accounts_of(users: list[CustomerUser]) -> list[str]:
    """The accounts these customer users are associated with (none: rows that are no one's
    contact yet)."""
    if not users:
        return []
    query = (Association.select(Association.account).distinct()
             .where(Association.user.in_([u.id for u in users])).order_by(Association.account))
    return [acc for (acc,) in tuples(query)]
