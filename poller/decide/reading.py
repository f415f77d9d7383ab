"""What the steps of `decide` share: where a message came from (`Source`), what every message of
a pass shares (`Context`), and the message as read so far (`Reading`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from core.settings import Settings
from poller.decide.resolve import Policy
from poller.mail.message import Message
from poller.understand import trust
from poller.understand.early import Ahead
from poller.understand.participants import AddressBook, Understanding
from store.directory.lookups import PassDirectory, SqlDirectory
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

    def __init__(self, settings: Settings, clock: Callable[[], datetime] | None = None,
                 one_pass: bool = False) -> None:
        t = settings.touchpoints
        self.settings = settings
        self.clock = clock or (lambda: datetime.now(UTC))
        # A poll pass reads each customer's links once (store.directory.lookups.PassDirectory).
        self.directory = (PassDirectory if one_pass else SqlDirectory)(
            t.case_sensitive_local_part)
        self.policy = Policy.from_settings(t)
        self.book = AddressBook.of(t, self.directory.team_addresses())
        self.attachments_dir = settings.attachments_path()  # asked for every logged message

    def is_member(self, address: str) -> bool:
        return self.directory.team_member(address) is not None

    def authenticated(self, msg: Message, ahead: Ahead | None = None
                      ) -> trust.TrustFailure | None:
        """SPEC 11 and 20's sender check with this pass's team and internal domains (one call
        for the pass, `failures assign` and a broken message's notice, so none forgets a rule):
        None when the From is proven; `ahead`, a worker's verdict, spares reading it again."""
        return trust.authenticate(msg, self.settings.trust, self.is_member,
                                  (lambda: ahead.verdict) if ahead else None,
                                  self.settings.touchpoints.internal_domains)


@dataclass(frozen=True)
class Reading:
    """A parsed message on its way through the steps; each step fills in what it learnt."""

    message: Message
    source: Source
    raw: bytes = field(default=b"", repr=False, compare=False)  # as fetched
    # The key the ledger records it under (store.ledger.records.place); "" until looked up.
    ledger_key: str = ""
    existing: MessageRecord | None = None  # a failed record of this key, processed afresh
    creator: TeamMember | None = None  # set by _from_team
    understanding: Understanding | None = None  # set by _understood
    # What a worker learnt from the message alone (poller.understand.early).
    ahead: Ahead | None = None
    trace: dict[str, Any] = field(default_factory=dict)
    # A reply to a thread from someone who may not post in it: the team member who mailed the
    # copy it answers, who is told instead of the sender (SPEC 20).
    tell: str | None = None

    def but(self, **changes: Any) -> Reading:
        """`dataclasses.replace`, at a fifth of its cost (it runs four times a message in the
        pass's own process): the fields are copied, not passed through `__init__` again."""
        unknown = changes.keys() - self.__dataclass_fields__.keys()
        if unknown:
            raise TypeError(f"Reading has no field {', '.join(sorted(unknown))}")
        new = object.__new__(Reading)
        new.__dict__.update(self.__dict__)
        new.__dict__.update(changes)
        return new

    @property
    def sender(self) -> str:
        return self.message.sender.email if self.message.sender else ""

    @property
    def key(self) -> str:
        return self.ledger_key or self.message.key


Step = Callable[[Reading, Context], "Reading | Verdict"]
