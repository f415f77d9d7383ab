"""What the resolution rules read of the customer directory: `Link` (one customer user on one
account) and the `Directory` protocol (store.directory.lookups.SqlDirectory in production).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Link:
    """One association of a customer user with an account."""

    account_id: str
    last_activity: datetime | None
    default_bcc: bool
    name: str = ""


class Directory(Protocol):
    def contact_accounts(self, address: str) -> list[Link]: ...

    def domain_accounts(self, domain: str) -> list[str]: ...

    def contacts_only_accounts(self, domain: str) -> list[str]: ...

    def sender_history(self, creator_id: int,
                       account_ids: Sequence[str]) -> dict[str, datetime]: ...

    def domain_history(self, domain: str, account_ids: Sequence[str],
                       since: datetime) -> dict[str, datetime]: ...
