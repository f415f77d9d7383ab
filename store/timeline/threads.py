"""What a thread is in the database (SPEC 14): its first touchpoint, the touchpoints in it, who
took part, the copies mailed of them (the secret its Reply-To tokens
are keyed with is in store.kept)."""

from __future__ import annotations

from collections.abc import Sequence

from store.models import (
    Association,
    CustomerUser,
    Touchpoint,
    TouchpointMail,
)


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
    """Everyone who took part in the thread, lower-case: participants and creators."""
    people = {tp.creator_email.lower() for tp in touchpoints if tp.creator_email}
    for tp in touchpoints:
        people.update(p["email"].lower() for p in tp.participants)
    return people


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
