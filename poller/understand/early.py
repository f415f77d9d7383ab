"""What `decide` can learn from a message alone, learnt ahead in a worker process (SPEC 17).

The filters, the trusted server's verdict on the From (the Authentication-Results parse and
alignment) and the understanding of who takes part (copy, forward, note) read only the message,
the settings and the team's addresses: a worker computes them while the pass commits the batch
before. The steps that read the ledger or the directory (a second copy, a Sender who is a team
member, the thread, the account) stay in the pass, in order. The pass uses what is here exactly
where it would have computed it, so a message ends the same with workers or without.

The pass unpickles every message a worker hands it, so it is handed only what its own steps
read: the message without its HTML and without the headers those steps never look at (all but
the Sender, which the author check reads; forwarded messages stay whole).
tests/test_corpus_pipeline.py decides the corpus from both and compares every verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

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


# What the pass's own steps read of a message's headers (poller.understand.trust's Sender check).
PASS_HEADERS = frozenset({"sender"})


def look_ahead(msg: Message, known: Knowledge) -> Ahead | Message:
    """The message with what it decides, trimmed to what the pass reads (`for_the_pass`); only
    the message when a step fails on it, so the pass meets the same error at the same step as
    a serial pass does."""
    try:
        verdict = trust.verdict(msg, known.trust, known.book.internal_domains)
        ahead = Ahead(msg, filters.skip_reason(msg), verdict, understand(msg, known.book))
    except Exception:
        return msg
    return for_the_pass(ahead)


def for_the_pass(ahead: Ahead) -> Ahead:
    msg = ahead.message
    headers = {k: v for k, v in msg.headers.items() if k in PASS_HEADERS}
    return replace(ahead, message=replace(msg, html="", headers=headers))
