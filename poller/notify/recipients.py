"""Who may get a notice: when it is queued (SPEC 8, 11, 20), and again when it is sent.

Every notice has a kind, which says why its recipient was chosen and so what must still hold
when it goes out, and in which hourly budget it counts:

- `member`: a team member, about their own message; still a team member (or alias) when sent.
- `internal`: a sender who is no team member but at an internal domain (SPEC 8); still under
  `internal_domains`, or a team member, when sent.
- `unverified`: a team member, about a message whose sender was never established (a forgery
  in their name, an outsider's reply to a thread they mailed, a message that broke touchlog);
  still a team member when sent. These count in a budget of their own, so that no stranger can
  spend a member's hourly budget and silence the notices about their own mail (SPEC 20).

A pending notice whose recipient no longer qualifies (removed by `import team --replace`, say)
is `cancelled` with the reason, never sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from peewee import fn

from core.addresses import domain_of, is_under
from core.settings import Settings
from store.ledger.models import Notice

if TYPE_CHECKING:
    from store.directory.lookups import SqlDirectory

MEMBER: Final = "member"
INTERNAL: Final = "internal"
UNVERIFIED: Final = "unverified"
KINDS: Final = (MEMBER, INTERNAL, UNVERIFIED)
RATE_WINDOW = timedelta(hours=1)


def should_notify(sender: str, is_team_member: bool, internal_domains: Sequence[str]) -> bool:
    """Only our own people: an outside `From` may be forged, and answering it is backscatter."""
    if is_team_member:
        return True
    if "@" not in sender:
        return False
    return is_under(domain_of(sender), internal_domains)


def kind_for_sender(is_team_member: bool) -> str:
    return MEMBER if is_team_member else INTERNAL


class Recheck:
    """Whether a pending notice may still go to its recipient, asked once per notice when the
    queue is sent (the team is read once per round)."""

    def __init__(self, settings: Settings) -> None:
        t = settings.touchpoints
        self._case_sensitive = t.case_sensitive_local_part
        self._made: SqlDirectory | None = None
        self._internal_domains = t.internal_domains

    @property
    def _directory(self) -> SqlDirectory:
        # Made at the first pending notice: the empty pass cron starts every minute has none,
        # and need not load the directory's compiled lookups (bench/bench_startup.py).
        if self._made is None:
            from store.directory.lookups import SqlDirectory

            self._made = SqlDirectory(self._case_sensitive)
        return self._made

    def why_not(self, notice: Notice) -> str:
        """'' when the notice may go; else why it is cancelled, in one line."""
        address = notice.to_address
        if self._directory.team_member(address) is not None:
            return ""
        internal = "@" in address and is_under(domain_of(address), self._internal_domains)
        if notice.kind in (MEMBER, UNVERIFIED):
            return f"{address} is no longer a team member"
        if not internal:
            return f"{address} is no longer a team member or an internal address"
        return ""


def sent_last_hour(notice: Notice, now: datetime) -> int:
    """Notices sent to this recipient within the hour, in the notice's own budget."""
    budget = (Notice.kind == UNVERIFIED) if notice.kind == UNVERIFIED else (
        (Notice.kind != UNVERIFIED) | Notice.kind.is_null())
    return (Notice.select()
            .where(Notice.status == "sent",
                   fn.LOWER(Notice.to_address) == notice.to_address.lower(),
                   Notice.sent_at > now - RATE_WINDOW, budget)
            .count())
