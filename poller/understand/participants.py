"""Who a message is about: the scenario (copy, forward, note), its participants and the ordered
customer candidates, by the rules of SPEC sections 2 and 3."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from core.addresses import (
    ADDRESS_RE,
    PersonalDomains,
    domain_of,
    find_addresses,
    is_under,
    normalize,
)
from core.reasons import COPY, FORWARD, NO_CUSTOMER_ADDRESS, NOTE
from core.sections import TouchpointSettings
from poller.mail.forwards import Forwarded, find_forwards
from poller.mail.message import Address, Message

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AddressBook:
    """What "internal" means for one message.

    Internal: a domain in `internal_domains` or a subdomain of one; the sender's own domain (the
    From of the received message, so for a forward the forwarder's); any team address or alias.
    The sender's domain counts only when the sender is a team member (or alias) whose From was
    established, and not at a personal/free-mail domain: a customer's reply, or an outsider's
    mail assigned by hand, must not make the customer's colleagues internal (SPEC 20), and a
    seller writing from gmail.com must not make every gmail.com customer internal.
    """

    mailbox_address: str
    internal_domains: tuple[str, ...]
    team_addresses: frozenset[str]  # normalized team members' emails + aliases
    personal_domains: PersonalDomains
    case_sensitive_local_part: bool = False

    @classmethod
    def of(cls, t: TouchpointSettings, team_addresses: frozenset[str]) -> AddressBook:
        return cls(mailbox_address=normalize(t.mailbox_address),
                   internal_domains=t.internal_domains, team_addresses=team_addresses,
                   personal_domains=PersonalDomains(t.personal_domains),
                   case_sensitive_local_part=t.case_sensitive_local_part)


@dataclass(frozen=True)
class Participant:
    email: str
    name: str
    role: str  # "internal" | "external"


@dataclass(frozen=True)
class Understanding:
    scenario: str | None  # "copy" | "forward" | "note" | None
    participants: tuple[Participant, ...]  # none for a note
    candidates: tuple[str, ...]  # external customer candidates, normalized, ordered, no repeats
    subject: str  # stored subject (a note's addresses removed, whitespace normalized)
    failure: str | None  # "no_customer_address" or None
    detail: str  # plain words for a failure


class Roles:
    """Internal/external for the addresses of one message, or of one touchpoint at send time
    (`sender`: its creator).

    `trusted` False: the sender's From was never established (a forged mail assigned by hand),
    so it makes nobody internal whoever it names."""

    def __init__(self, book: AddressBook, sender: Address | None, trusted: bool = True) -> None:
        self._book = book
        self._domains = tuple(book.internal_domains)
        self._team = _team_keys(book.team_addresses, book.case_sensitive_local_part)
        self._mailbox = self.key(book.mailbox_address)
        own = sender.domain if sender else ""
        if own and trusted and self.key(sender.email if sender else "") in self._team \
                and own not in book.personal_domains:
            self._domains += (own,)

    def key(self, email: str) -> str:
        return normalize(email, self._book.case_sensitive_local_part)

    def is_mailbox(self, email: str) -> bool:
        """The mailbox itself, or it with a +extension (a thread's Reply-To, SPEC 14): mail to
        either lands in the mailbox, which is never a participant."""
        key = self.key(email)
        if key == self._mailbox:
            return True
        local, _, domain = key.rpartition("@")
        own_local, _, own_domain = self._mailbox.rpartition("@")
        return domain == own_domain and local.startswith(own_local + "+")

    def is_internal(self, email: str) -> bool:
        return is_under(domain_of(email), self._domains) or self.key(email) in self._team

    def external(self, emails: Iterable[str]) -> tuple[str, ...]:
        """Normalized external addresses, in order, without repeats; never the mailbox."""
        keys = (self.key(e) for e in emails if not self.is_mailbox(e) and not self.is_internal(e))
        return tuple(dict.fromkeys(keys))

    def participants(self, people: Iterable[Address | None]) -> tuple[Participant, ...]:
        seen: dict[str, Participant] = {}
        for person in people:
            if person is None or self.is_mailbox(person.email):
                continue
            role = "internal" if self.is_internal(person.email) else "external"
            seen.setdefault(self.key(person.email), Participant(person.email, person.name, role))
        return tuple(seen.values())


@lru_cache(maxsize=8)
def _team_keys(team: frozenset[str], case_sensitive_local_part: bool) -> frozenset[str]:
    """The team's addresses as Roles compares them: worked out once a pass, not per message."""
    return frozenset(normalize(a, case_sensitive_local_part) for a in team)


def header_participants(msg: Message, book: AddressBook, leave_out: Iterable[str] = (),
                        trusted: bool = True) -> tuple[Participant, ...]:
    """From, To and Cc as participants (a reply to a thread, a message assigned by hand),
    without the mailbox and the addresses in `leave_out` (a thread's own address)."""
    roles = Roles(book, msg.sender, trusted)
    skip = {roles.key(e) for e in leave_out}
    people = (p for p in (msg.sender, *msg.to, *msg.cc)
              if p is not None and roles.key(p.email) not in skip)
    return roles.participants(people)


def understand(msg: Message, book: AddressBook, trusted: bool = True) -> Understanding:
    """Copy if an external address stands in To/Cc; else forward if the body forwards mail; else
    note if the subject holds addresses; else `no_customer_address`. `trusted`: see Roles."""
    roles = Roles(book, msg.sender, trusted)
    copied = roles.external(a.email for a in msg.to + msg.cc)
    if copied:
        people = (msg.sender, *msg.to, *msg.cc)
        return Understanding(COPY, roles.participants(people), copied, msg.subject, None, "")
    blocks = find_forwards(msg)
    if not blocks:
        return _note(msg, roles)
    forward = _forward(msg, blocks, roles)
    if forward.failure is None:
        return forward
    # A forward of internal mail (or of names only) with the customer's address in the
    # subject is the seller's note about it; otherwise the forward's failure says what is wrong.
    note = _note(msg, roles)
    return note if note.failure is None else forward


def _forward(msg: Message, blocks: list[Forwarded], roles: Roles) -> Understanding:
    """The innermost block with an external address decides; the forwarder is never credited."""
    for block in reversed(blocks):
        people = (block.sender, *block.to, *block.cc)
        candidates = roles.external(p.email for p in people if p is not None)
        if candidates:
            log.debug("forward: %s block decides, candidates %s", block.source, candidates)
            return Understanding(FORWARD, roles.participants(people), candidates, msg.subject,
                                 None, "")
    return _failed(FORWARD, msg.subject, _forward_detail(blocks))


def _forward_detail(blocks: list[Forwarded]) -> str:
    names = list(dict.fromkeys(name for block in blocks for name in block.names))
    shown = [p.email for b in blocks for p in (b.sender, *b.to, *b.cc) if p is not None]
    if names and not shown:
        return f"the forwarded message shows only names ({', '.join(names)}), no addresses"
    if shown:
        listed = ", ".join(dict.fromkeys(shown))
        return f"the forwarded message shows no customer address, only internal ones ({listed})"
    return "the forwarded message shows no addresses"


def _note(msg: Message, roles: Roles) -> Understanding:
    in_subject = find_addresses(msg.subject)
    if not in_subject:
        return _failed(None, msg.subject, "nobody outside the company is in To or Cc, the "
                       "message forwards no mail, and the subject holds no address")
    subject = clean_note_subject(msg.subject)
    candidates = roles.external(in_subject)
    if not candidates:
        return _failed(NOTE, subject, "the subject holds only internal addresses "
                       f"({', '.join(in_subject)})")
    return Understanding(NOTE, (), candidates, subject, None, "")


def _failed(scenario: str | None, subject: str, detail: str) -> Understanding:
    return Understanding(scenario, (), (), subject, NO_CUSTOMER_ADDRESS, detail)


_SEPARATORS = r"[\s,;:/|&+–—-]"
_WRAPPED_ADDRESS_RE = re.compile(
    r"[<(\[]?\s*(?:mailto:)?" + ADDRESS_RE.pattern + r"\s*[>)\]]?", re.IGNORECASE
)
_HOLE = "\x00"
# Addresses with the separators around them, "and" between two of them: "a@x.com, b@y.com -".
_HOLES_RE = re.compile(
    rf"[\s,;/|&+–—-]*{_HOLE}(?:(?:{_SEPARATORS}|(?:and|und|et|y|e)\b)*{_HOLE})*{_SEPARATORS}*"
)

_ENDS_RE = re.compile(rf"^{_SEPARATORS}+|[\s,;/|&+–—-]+$")


def clean_note_subject(subject: str) -> str:
    """The subject without its addresses or the separators they leave behind:
    "Re: jill@cust.com - call notes" → "Re: call notes"."""
    holed = _WRAPPED_ADDRESS_RE.sub(_HOLE, subject)
    tidy = _HOLES_RE.sub(" ", holed)
    tidy = _ENDS_RE.sub("", tidy)
    return " ".join(tidy.split())
