"""What a thread is in the database (SPEC 14): its first touchpoint, the touchpoints in it, who
took part, the copies mailed of them (the secret its Reply-To tokens
are keyed with is in store.kept)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from core.reasons import REPLY
from store.models import (
    Account,
    Association,
    CustomerUser,
    Touchpoint,
    TouchpointMail,
)

# What a reply's thread step says of a sender who is on the team (poller.understand.threads).
TEAM_MEMBER: Final = "team member"


def first_of_thread(thread_id: int) -> Touchpoint | None:
    """The live touchpoint that starts the thread; None when it is gone or starts none."""
    tp = Touchpoint.get_or_none(Touchpoint.id == thread_id)
    if tp is None or tp.deleted_at is not None or tp.thread_id not in (None, tp.id):
        return None
    return tp


def in_thread(first: Touchpoint) -> list[Touchpoint]:
    """The live touchpoints of the thread, its first one included, oldest first."""
    return list(Touchpoint.select()
                .where(((Touchpoint.id == first.id) | (Touchpoint.thread_id == first.id)),
                       Touchpoint.deleted_at.is_null())
                .order_by(Touchpoint.id))


def thread_people(touchpoints: Sequence[Touchpoint]) -> set[str]:
    """The people the team put in the thread, lower-case: participants and creators of its
    touchpoints, but for replies logged from mail of someone who is no team member. Those
    come from an outsider's headers: a customer who Cc's a stranger gives the stranger no right
    to post (SPEC 14, 20)."""
    made = [tp for tp in touchpoints if made_by_team(tp)]
    people = {tp.creator_email.lower() for tp in made if tp.creator_email}
    for tp in made:
        people.update(p["email"].lower() for p in tp.participants)
    return people


def made_by_team(tp: Touchpoint) -> bool:
    """Not a reply whose sender was no team member when it was logged (its trace's thread
    step says who the sender was)."""
    if tp.scenario != REPLY:
        return True
    steps = tp.trace.get("steps") if isinstance(tp.trace, dict) else None
    first = steps[0] if isinstance(steps, list) and steps and isinstance(steps[0], dict) else {}
    return first.get("sender_is") == TEAM_MEMBER


def copy_mailer(touchpoints: Sequence[Touchpoint], references: Sequence[str]) -> str | None:
    """Who mailed the copy a reply answers (its In-Reply-To first, then References, newest
    first), else the latest copy of the thread: the team member to tell about a reply that
    may not be logged."""
    mails = list(TouchpointMail.select()
                 .where(TouchpointMail.touchpoint.in_([tp.id for tp in touchpoints]))
                 .order_by(TouchpointMail.id.desc()))
    wanted = [r for r in references if r]
    for ref in [*wanted[:1], *reversed(wanted[1:])]:
        for mail in mails:
            if mail.message_id == ref:
                return str(mail.sent_by)
    return str(mails[0].sent_by) if mails else None


def account_removed(tp: Touchpoint) -> bool:
    """The touchpoint's account was left out by `import accounts --replace`."""
    return (Account.select().where(Account.account_id == tp.account_id,
                                   Account.removed_at.is_null(False)).exists())


def answered(touchpoints: Sequence[Touchpoint], references: Sequence[str]) -> Touchpoint | None:
    """The touchpoint of the thread whose message (or a mailed copy of it) the reply answers;
    `references` are normalized ids, In-Reply-To first (poller.mail.message)."""
    by_id = {tp.id: tp for tp in touchpoints}
    wanted = [r for r in references if r]
    if not wanted:
        return None
    # In-Reply-To (first) is the message answered directly; then References, newest first.
    for ref in [wanted[0], *reversed(wanted[1:])]:
        for tp in touchpoints:
            if tp.message_id == ref:
                return tp
        mail = TouchpointMail.get_or_none(TouchpointMail.message_id == ref)
        if mail is not None and mail.touchpoint_id in by_id:
            return by_id[mail.touchpoint_id]
    return None


def is_customer_of(address: str, account_id: str) -> bool:
    """A known customer user associated with the account (case-insensitive address)."""
    return (Association.select().join(CustomerUser)
            .where(CustomerUser.email_lower == address.lower(),
                   Association.account == account_id)
            .exists())


def record_mail(tp: Touchpoint, message_id: str, audience: str, recipients: Sequence[str],
                sent_by: str) -> TouchpointMail:
    return TouchpointMail.create(touchpoint=tp.id, message_id=message_id, audience=audience,
                                 recipients=list(recipients), sent_by=sent_by)
