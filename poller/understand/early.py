"""What `decide` can learn from a message alone, learnt ahead in a worker process (SPEC 17).

The filters, the trusted server's verdict on the From (the Authentication-Results parse and
alignment) and the understanding of who takes part (copy, forward, note) read only the message,
the settings and the team's addresses: a worker computes them while the pass commits the batch
before. The steps that read the ledger or the directory (a second copy, a Sender who is a team
member, the thread, the account) stay in the pass, in order. The pass uses what is here exactly
where it would have computed it, so a message ends the same with workers or without.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.sections import TrustSettings
from poller.mail.message import Message
from poller.understand import filters, trust
from poller.understand.participants import AddressBook, Understanding, understand
from poller.understand.trust import TrustFailure


@dataclass(frozen=True)
class Ahead:
    """A parsed message and what its own bytes decide."""

    message: Message
    skip_reason: str | None  # filters.skip_reason
    verdict: TrustFailure | None  # trust.verdict (None: aligned, or the check is off)
    understanding: Understanding  # participants.understand


@dataclass(frozen=True)
class Knowledge:
    """What a worker needs besides the message: picklable, fixed for a pass."""

    book: AddressBook
    trust: TrustSettings


def look_ahead(msg: Message, known: Knowledge) -> Ahead | Message:
    """The message with what it decides; only the message when a step fails on it, so the
    pass meets the same error at the same step as a serial pass does."""
    try:
        verdict = trust.verdict(msg, known.trust, known.book.internal_domains)
        return Ahead(msg, filters.skip_reason(msg), verdict, understand(msg, known.book))
    except Exception:
        return msg
