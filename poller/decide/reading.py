"""What the steps of `decide` share: where a message came from (`Source`), what every message of
a pass shares (`Context`), and the message as read so far (`Reading`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from core.addresses import PersonalDomains, normalize
from core.settings import Settings
from poller.decide.resolve import Policy
from poller.mail.message import Message
from poller.understand.early import Ahead
from poller.understand.participants import AddressBook, Understanding
from store.directory.lookups import SqlDirectory
from store.ledger.models import MessageRecord
from store.models import TeamMember

if TYPE_CHECKING:
    from poller.decide.verdict import Verdict


@dataclass(frozen=True)
class Source:
    """Where the bytes came from: a mailbox folder and UID, or a local file."""

    mailbox: str
    uid: int | None = None
    internal_date: datetime | None = None
    # False for a local file (`touchlog process`): there is no mailbox to answer from.
    notices: bool = True


class Context:
    """What every message of a pass shares: settings, directory, rules, the clock."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime] | None = None) -> None:
        t = settings.touchpoints
        self.settings = settings
        self.clock = clock or (lambda: datetime.now(UTC))
        self.directory = SqlDirectory(t.case_sensitive_local_part)
        self.policy = Policy.from_settings(t)
        self.book = AddressBook(
            mailbox_address=normalize(t.mailbox_address),
            internal_domains=t.internal_domains,
            team_addresses=self.directory.team_addresses(),
            personal_domains=PersonalDomains(t.personal_domains),
            case_sensitive_local_part=t.case_sensitive_local_part,
        )


@dataclass(frozen=True)
class Reading:
    """A parsed message on its way through the steps; each step fills in what it learnt."""

    message: Message
    source: Source
    existing: MessageRecord | None = None  # a failed record of this key, processed afresh
    creator: TeamMember | None = None  # set by _from_team
    understanding: Understanding | None = None  # set by _understood
    # What a worker learnt from the message alone (poller.understand.early).
    ahead: Ahead | None = None
    trace: dict[str, Any] = field(default_factory=dict)

    @property
    def sender(self) -> str:
        return self.message.sender.email if self.message.sender else ""


Step = Callable[[Reading, Context], "Reading | Verdict"]
