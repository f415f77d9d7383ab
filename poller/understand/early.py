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

An Ahead travels as one flat tuple (`Ahead.__reduce__`): the message's fields by position, its
addresses as (email, name) pairs, its UTC date without the zone object, rebuilt in the pass
without `__init__`. Pickle's own form spells every field's name and a class for every address
and zone; on 500 notes the flat one takes 33 → 14 µs to unpickle (in the pass) and 37 → 13 µs
to pickle (in the worker), 929 → 417 bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from typing import Any

from core.sections import TrustSettings
from poller.mail.message import Address, Message
from poller.understand import filters, trust
from poller.understand.participants import AddressBook, Participant, Understanding, understand
from poller.understand.trust import TrustFailure


@dataclass(frozen=True)
class Ahead:
    """A parsed message and what its own bytes decide."""

    message: Message
    skip_reason: str | None  # filters.skip_reason
    verdict: TrustFailure | None  # trust.verdict (None: aligned, or the check is off)
    understanding: Understanding  # participants.understand

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        u = self.understanding.__dict__
        flat_u = [u[name] for name in _UNDERSTANDING]
        flat_u[_PARTICIPANTS] = tuple((p.email, p.name, p.role)
                                      for p in self.understanding.participants)
        return _ahead, (_flat(self.message), self.skip_reason, self.verdict, tuple(flat_u))


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
    """`ahead` with its message trimmed: copies of the frozen instances, not
    `dataclasses.replace` (two of those cost ~12 µs a message in the worker)."""
    msg = ahead.message
    headers = {k: v for k, v in msg.headers.items() if k in PASS_HEADERS}
    trimmed = _new(Message)
    trimmed.__dict__.update(msg.__dict__, html="", headers=headers)
    handed = _new(Ahead)
    handed.__dict__.update(ahead.__dict__, message=trimmed)
    return handed


# The flat form: every field of Message and Understanding by position (a field added later
# travels too); only the fields holding addresses, the date and attached messages are
# flattened further.
_new = object.__new__
_MESSAGE = tuple(Message.__dataclass_fields__)
_SENDER, _TO, _CC, _AUTHORS, _DATE, _ATTACHED = (
    _MESSAGE.index(name) for name in ("sender", "to", "cc", "authors", "date",
                                      "attached_messages"))
_UNDERSTANDING = tuple(Understanding.__dataclass_fields__)
_PARTICIPANTS = _UNDERSTANDING.index("participants")


def _flat(msg: Message) -> tuple[Any, ...]:
    d = msg.__dict__
    flat = [d[name] for name in _MESSAGE]
    sender = msg.sender
    flat[_SENDER] = None if sender is None else (sender.email, sender.name)
    for i in (_TO, _CC, _AUTHORS):
        flat[i] = tuple((a.email, a.name) for a in flat[i])
    date = msg.date
    # UTC (aware_utc's zone, the one a parsed message holds) goes as a naive time; any other
    # zone, or a naive time, whole in a 1-tuple.
    flat[_DATE] = date.replace(tzinfo=None) if date is not None and date.tzinfo is UTC \
        else (date,)
    flat[_ATTACHED] = tuple(_flat(inner) for inner in msg.attached_messages)
    return tuple(flat)


def _message(flat: tuple[Any, ...]) -> Message:
    values = list(flat)
    sender = values[_SENDER]
    values[_SENDER] = None if sender is None else _address(sender)
    for i in (_TO, _CC, _AUTHORS):
        values[i] = tuple(_address(a) for a in values[i])
    date = values[_DATE]
    values[_DATE] = date[0] if type(date) is tuple else date.replace(tzinfo=UTC)
    values[_ATTACHED] = tuple(_message(inner) for inner in values[_ATTACHED])
    msg = _new(Message)
    msg.__dict__.update(zip(_MESSAGE, values, strict=True))
    return msg


def _address(pair: tuple[str, str]) -> Address:
    address = _new(Address)
    address.__dict__.update(email=pair[0], name=pair[1])
    return address


def _ahead(msg: tuple[Any, ...], skip_reason: str | None, verdict: TrustFailure | None,
           understanding: tuple[Any, ...]) -> Ahead:
    """What `Ahead.__reduce__` made, in the pass: the same fields, the same values."""
    values = list(understanding)
    values[_PARTICIPANTS] = tuple(Participant(*p) for p in values[_PARTICIPANTS])
    u = _new(Understanding)
    u.__dict__.update(zip(_UNDERSTANDING, values, strict=True))
    ahead = _new(Ahead)
    ahead.__dict__.update(message=_message(msg), skip_reason=skip_reason, verdict=verdict,
                          understanding=u)
    return ahead
