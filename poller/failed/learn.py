"""The review queue that learns (SPEC 22): `failures assign UID --account ID --as EMAIL
--remember` (on the web, the `remember` checkbox of `POST /review/UID/assign`) also makes the
message's customer candidates that are not yet customer users contacts of the account, with
`last_activity` = the message's date, so that their next mail resolves by contact.

`poller.failed.assign.assign(..., remember=True)` calls `remember` after the touchpoint is
committed and before the message is moved. Should it fail in between, the message is still in
the failed folder, already logged: assigning it again finds the touchpoint and remembers then.
Remembering twice adds nothing twice: the second time the addresses are known.

Nothing is learnt from a message whose sender the assignment could not establish as a team
member (SPEC 20: a forged or an outsider's mail; the trace's `manual` step says
`sender_verified: false`): who the customer is would be a stranger's claim. Otherwise, what is
never learnt: an internal address (the mailbox, with or without a +extension, a team member's
address or alias, an internal domain: `understand` already leaves them out, and they are checked
again here), something that is no address, a `+extension` address while
`touchpoints.plus_addresses = "reject"` (mail never looks it up; under "strip" the address
without the extension is learnt), and past the first MAX_REMEMBERED, the rest. A candidate that
is already a customer user of some account is left as it is: its accounts are the directory's
to change, not a review's. Personal/free-mail addresses are learnt: a contact match is exact,
and the domain pass never uses their domain.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.addresses import ADDRESS_RE, has_plus, is_under, normalize, strip_plus
from core.learning import (
    INTERNAL,
    NOT_AN_ADDRESS,
    PLUS_REJECTED,
    REMEMBERED,
    TOO_MANY,
    UNVERIFIED_SENDER,
    remembered_line,
    remembered_step,
)
from core.limits import cut
from core.reasons import MANUAL
from core.utc import utcnow
from poller.decide.reading import Context
from poller.mail.message import parse_message
from poller.understand.participants import AddressBook, understand
from store.directory.lookups import require_account
from store.directory.review import add_contacts
from store.ledger.models import MessageRecord
from store.models import TeamMember, Touchpoint, database

log = logging.getLogger(__name__)

# A message to more customers than this is a mailing, not a conversation: the rest is left out
# (and named in the trace) rather than filling an account with a distribution list.
MAX_REMEMBERED = 50
_LONGEST_ADDRESS = 254  # RFC 5321's path limit, less the brackets


@dataclass(frozen=True)
class Remembered:
    """What one `--remember` did, as its trace step says it."""

    account_id: str
    by: str
    added: tuple[str, ...]
    known: dict[str, list[str]]  # address -> the accounts it was already a customer user of
    left_out: tuple[tuple[str, str], ...]  # (address, why) never learnt
    words: str  # the sentence `explain` shows


def assignable(account_id: str) -> None:
    """Refuse an unknown account, or one removed from the directory (import accounts
    --replace): neither a touchpoint nor a learnt contact may go there. `assign` asks first,
    for the CLI and the web alike."""
    require_account(account_id, live=True)


def remember(ctx: Context, raw: bytes, touchpoint_id: int, member: TeamMember,
             now: datetime | None = None) -> Remembered:
    """Make the customer candidates of `raw`, logged as `touchpoint_id`, contacts of that
    touchpoint's account as `member` chose; the step joins the touchpoint's trace. `ctx` is
    the one `failures assign` logged it with (its directory and team, read once)."""
    settings = ctx.settings
    tp = Touchpoint.get_by_id(touchpoint_id)
    require_account(tp.account_id, live=True)
    candidates = understand(parse_message(raw), ctx.book).candidates
    wanted, left_out = learnable(candidates, ctx.book, settings.touchpoints.plus_addresses)
    if not _sender_established(tp.trace or {}):
        wanted, left_out = [], [(cut(a, _LONGEST_ADDRESS, " "), UNVERIFIED_SENDER)
                                for a in candidates]
    with database.atomic():
        learnt = add_contacts(tp.account_id, wanted, tp.occurred_at,
                              settings.touchpoints.case_sensitive_local_part)
        step = remembered_step(member.email, now or utcnow(), tp.account_id, tp.occurred_at,
                               learnt.added, learnt.known, left_out)
        names = ctx.directory.account_names(
            [tp.account_id, *(acc for accs in learnt.known.values() for acc in accs)])
        _add_step(touchpoint_id, step, names)
    log.info("touchpoint %s: %s remembered %s on %s", touchpoint_id, member.email,
             learnt.added, tp.account_id)
    return _as_remembered(step, names)


def _sender_established(trace: dict[str, Any]) -> bool:
    """False when the assignment found the message's From unestablished (SPEC 20: a forged or
    an outsider's mail, credited to who chose): its addresses are a stranger's claims."""
    manual = [s for s in trace.get("steps", []) if isinstance(s, dict) and s.get("rule") == MANUAL]
    return not manual or manual[-1].get("sender_verified") is not False


def learnable(candidates: Sequence[str], book: AddressBook,
              plus_addresses: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The addresses to remember, in order, each once, as the contact pass will look them up;
    and the ones left out with why (poller.decide.remembered's codes)."""
    wanted: list[str] = []
    left_out: list[tuple[str, str]] = []
    for raw in candidates:
        address = normalize(raw, book.case_sensitive_local_part)
        why = _never_learnt(address, book, plus_addresses)
        if why:
            left_out.append((cut(raw, _LONGEST_ADDRESS, " "), why))
            continue
        address = strip_plus(address) if has_plus(address) else address
        if address in wanted:
            continue
        if len(wanted) >= MAX_REMEMBERED:
            left_out.append((raw, TOO_MANY))
            continue
        wanted.append(address)
    return wanted, left_out


def _never_learnt(address: str, book: AddressBook, plus_addresses: str) -> str | None:
    if len(address) > _LONGEST_ADDRESS or not ADDRESS_RE.fullmatch(address):
        return NOT_AN_ADDRESS
    if _internal(address, book):
        return INTERNAL
    if has_plus(address) and plus_addresses != "strip":
        return PLUS_REJECTED
    return None


def _internal(address: str, book: AddressBook) -> bool:
    lower, mailbox = address.lower(), book.mailbox_address.lower()
    bare = strip_plus(lower)
    return (lower == mailbox or bare == mailbox or lower in book.team_addresses
            or bare in book.team_addresses
            or is_under(lower.rpartition("@")[2], book.internal_domains))


def _add_step(touchpoint_id: int, step: dict[str, Any], names: dict[str, str]) -> None:
    """The step joins the trace of the touchpoint and of its message's record (`explain`)."""
    rows: list[Touchpoint | MessageRecord] = [Touchpoint.get_by_id(touchpoint_id)]
    rows.extend(MessageRecord.select().where(MessageRecord.touchpoint == touchpoint_id))
    for row in rows:
        trace = dict(row.trace or {})
        trace["steps"] = [*trace.get("steps", []), step]
        trace["names"] = {**trace.get("names", {}), **names}
        row.trace = trace
        row.save(only=[type(row).trace])


def remembered(touchpoint_id: int) -> Remembered | None:
    """What the latest `--remember` of this touchpoint did, from its trace (None: never)."""
    tp = Touchpoint.get_or_none(Touchpoint.id == touchpoint_id)
    steps = [s for s in ((tp.trace or {}).get("steps", []) if tp else [])
             if isinstance(s, dict) and s.get("rule") == REMEMBERED]
    return _as_remembered(steps[-1], tp.trace.get("names", {})) if steps and tp else None


def _as_remembered(step: dict[str, Any], names: dict[str, str]) -> Remembered:
    return Remembered(
        account_id=str(step.get("account_id", "")), by=str(step.get("by", "")),
        added=tuple(step.get("added") or ()), known=dict(step.get("known") or {}),
        left_out=tuple((str(i.get("address")), str(i.get("why")))
                       for i in step.get("left_out") or ()),
        words=remembered_line(step, names))
