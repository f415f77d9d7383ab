"""The messages a pass has in hand (fetched, not yet committed), kept where a pass killed by
the kernel (out of memory) or SIGKILL cannot take them back (SPEC 20).

An exception is counted as a try by poller.passes.broken, but a kill stops the pass before it
can count anything: so a pass writes down which UIDs it is about to read, and the next pass of
that mailbox finds them under a run that died. Those become suspects and are read one at a time;
a pass that dies with a single suspect in hand counts a try on it (`kills`), so a message that
kills every pass ends, after `mailbox.max_attempts` of them, as `internal_error`, unread.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from peewee import AutoField, IntegerField

from store.models import BaseModel, CharField, database

_IN = 500  # UIDs per IN (...) list: SQLite's older builds allow 999 variables


class InHand(BaseModel):
    """A message a pass has in hand, or a suspect between passes (`run` None)."""

    id = AutoField()
    mailbox = CharField()  # the pass's mailbox, as poller.passes.poll.mailbox_name names it
    uid = IntegerField()
    run = IntegerField(null=True)  # the run that has it in hand
    kills = IntegerField(default=0)  # passes that died with it alone in hand

    class Meta:
        indexes = ((("mailbox", "uid"), True),)


def settle(mailbox: str, killed: Iterable[int], present: set[int]) -> dict[int, int]:
    """At the start of a pass: what the dead runs had in hand becomes suspect, and a kill with
    one message alone in hand counts against it; rows of messages no longer in the folder go.
    The suspects, UID -> kills."""
    killed = set(killed)
    with database.atomic():
        rows = list(InHand.select().where(InHand.mailbox == mailbox))
        alone = Counter(row.run for row in rows if row.run is not None)
        suspects: dict[int, int] = {}
        for row in rows:
            run = row.run
            if row.uid not in present or not (run in killed or row.kills or run is None):
                row.delete_instance()
                continue
            if run is not None:
                if run in killed and alone[run] == 1:
                    row.kills += 1
                row.run = None
                row.save()
            suspects[row.uid] = row.kills
    return suspects


def take(mailbox: str, run: int, uids: Sequence[int]) -> None:
    """Before these are fetched: committed at once, so that a kill finds them."""
    with database.atomic():
        for start in range(0, len(uids), _IN):
            chunk = list(uids[start:start + _IN])
            InHand.update(run=run).where((InHand.mailbox == mailbox)
                                         & InHand.uid.in_(chunk)).execute()
            known = {row.uid for row in InHand.select(InHand.uid).where(
                (InHand.mailbox == mailbox) & InHand.uid.in_(chunk))}
            InHand.insert_many([{"mailbox": mailbox, "uid": uid, "run": run}
                                for uid in chunk if uid not in known]).execute()


def done(mailbox: str, uids: Sequence[int]) -> None:
    """The pass lived through these: nothing to hold against them (call it in the transaction
    that commits them)."""
    for start in range(0, len(uids), _IN):
        InHand.delete().where((InHand.mailbox == mailbox)
                              & InHand.uid.in_(list(uids[start:start + _IN]))).execute()


def let_go(mailbox: str, run: int) -> None:
    """At the end of a pass that lived (done, stopped or an error): what it still had in hand
    was not read, or lived through; only a suspect's kills are kept."""
    with database.atomic():
        InHand.delete().where((InHand.mailbox == mailbox) & (InHand.run == run)
                              & (InHand.kills == 0)).execute()
        InHand.update(run=None).where((InHand.mailbox == mailbox)
                                      & (InHand.run == run)).execute()
