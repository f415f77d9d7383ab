"""A batch a pass has in hand, written down as one row (store.ledger.in_hand): its UIDs as
ranges, so that writing a batch of 200 down and crossing it off costs one statement each, not
one row a message. Only batches without a suspect are kept so; a suspect keeps its own row
(store.ledger.in_hand.InHand), with the kills counted against it.
"""

from __future__ import annotations

from collections.abc import Iterable

from peewee import AutoField, IntegerField, TextField

from store.models import BaseModel, CharField


class InHandBatch(BaseModel):
    """UIDs a run has in hand, none of them a suspect when it took them."""

    id = AutoField()
    mailbox = CharField()  # the pass's mailbox, as poller.passes.poll.mailbox_name names it
    run = IntegerField()  # the run that has them in hand
    uids = TextField()  # as `packed` writes them: "1-200,203"

    class Meta:
        indexes = ((("mailbox", "run"), False),)


def packed(uids: Iterable[int]) -> str:
    """Ascending UIDs as runs of consecutive ones: "1-3,7,9-10". A pass's batch is mostly one
    run (UIDs only grow), so a row stays a few bytes whatever the batch size."""
    spans: list[str] = []
    first = last = -2
    for uid in uids:
        if uid != last + 1:
            if last >= 0:
                spans.append(f"{first}-{last}" if last > first else str(first))
            first = uid
        last = uid
    if last >= 0:
        spans.append(f"{first}-{last}" if last > first else str(first))
    return ",".join(spans)


def unpacked(text: str) -> list[int]:
    """The UIDs `packed` wrote, in order."""
    uids: list[int] = []
    for span in filter(None, text.split(",")):
        first, _, last = span.partition("-")
        uids.extend(range(int(first), int(last or first) + 1))
    return uids
