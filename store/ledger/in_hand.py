"""The messages a pass has in hand (fetched, not yet committed), kept where a pass killed by
the kernel (out of memory) or SIGKILL cannot take them back (SPEC 20).

An exception is counted as a try by poller.passes.broken, but a kill stops the pass before it
can count anything: so a pass writes down which UIDs it is about to read, and the next pass of
that mailbox finds them under a run that died. Those become suspects and are read one at a time;
a pass that dies with a single suspect in hand counts a try on it (`kills`), so a message that
kills every pass ends, after `mailbox.max_attempts` of them, as `internal_error`, unread.

A batch without a suspect, nearly every one, is written down as one row (InHandBatch: its UIDs
as ranges) and crossed off with one statement: a pass pays per batch, not per message. Suspects
keep a row each (InHand), which is also what the next pass makes of a dead run's batches, and
what an older touchlog wrote: such a row is a suspect whichever version wrote it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Container, Iterable, Sequence
from dataclasses import dataclass

from peewee import AutoField, IntegerField

from store.ledger.in_hand_batch import InHandBatch, packed, unpacked
from store.models import BaseModel, CharField, database

_IN = 200  # UIDs per IN (...) list or multi-row INSERT: SQLite's older builds allow 999 variables


class InHand(BaseModel):
    """A message a pass has in hand, or a suspect between passes (`run` None)."""

    id = AutoField()
    mailbox = CharField()  # the pass's mailbox, as poller.passes.poll.mailbox_name names it
    uid = IntegerField()
    run = IntegerField(null=True)  # the run that has it in hand
    kills = IntegerField(default=0)  # passes that died with it alone in hand

    class Meta:
        indexes = ((("mailbox", "uid"), True),)


@dataclass
class Taken:
    """A batch `take` wrote down, for `done` to cross off."""

    mailbox: str
    row: int | None  # its InHandBatch row, of `uids`
    uids: list[int]  # the batch's UIDs that were no suspect
    held: list[int]  # its suspects, on InHand rows of their own

    def __contains__(self, uid: object) -> bool:
        return uid in self.uids or uid in self.held


def settle(mailbox: str, killed: Iterable[int], present: set[int]) -> dict[int, int]:
    """At the start of a pass: what the dead runs had in hand becomes suspect, and a kill with
    one message alone in hand counts against it; rows of messages no longer in the folder go.
    The suspects, UID -> kills."""
    killed = set(killed)
    with database.atomic():
        rows = {row.uid: row for row in InHand.select().where(InHand.mailbox == mailbox)}
        batches = _dead_batches(mailbox, killed, rows)
        in_hand = Counter(row.run for row in rows.values() if row.run is not None)
        in_hand.update(batches.values())
        suspects: dict[int, int] = {}
        for row in rows.values():
            run = row.run
            if row.uid not in present or not (run in killed or row.kills or run is None):
                row.delete_instance()
                continue
            if run is not None:
                if run in killed and in_hand[run] == 1:
                    row.kills += 1
                row.run = None
                row.save()
            suspects[row.uid] = row.kills
        fresh = {uid: int(in_hand[run] == 1) for uid, run in batches.items() if uid in present}
        new_rows = [{"mailbox": mailbox, "uid": uid, "kills": kills}
                    for uid, kills in fresh.items()]
        for start in range(0, len(new_rows), _IN):
            InHand.insert_many(new_rows[start:start + _IN]).execute()
    return {**suspects, **fresh}


def _dead_batches(mailbox: str, killed: Container[int], rows: dict[int, InHand]) -> dict[int, int]:
    """The UIDs the dead runs' batches had in hand, UID -> run, and those batches gone; the
    other batches (of runs that lived but could not let go) only go. A UID that also has a row
    of its own is counted there."""
    batches = list(InHandBatch.select().where(InHandBatch.mailbox == mailbox))
    if not batches:
        return {}
    InHandBatch.delete().where(InHandBatch.mailbox == mailbox).execute()
    held: dict[int, int] = {}
    for batch in batches:
        if batch.run not in killed:
            continue
        for uid in unpacked(batch.uids):
            row = rows.get(uid)
            if row is None:
                held[uid] = batch.run
            elif row.run is None:
                row.run = batch.run
    return held


def take(mailbox: str, run: int, uids: Sequence[int], suspects: Container[int]) -> Taken:
    """Before these are fetched: committed at once, so that a kill finds them. `suspects`: the
    UIDs with rows of their own (what settle returned)."""
    held = [uid for uid in uids if uid in suspects]
    rest = [uid for uid in uids if uid not in suspects] if held else list(uids)
    with database.atomic():
        row = InHandBatch.insert(mailbox=mailbox, run=run, uids=packed(rest)).execute() \
            if rest else None
        for start in range(0, len(held), _IN):
            _hold(mailbox, run, held[start:start + _IN])
    return Taken(mailbox, row, rest, held)


def _hold(mailbox: str, run: int, uids: list[int]) -> None:
    InHand.update(run=run).where((InHand.mailbox == mailbox) & InHand.uid.in_(uids)).execute()
    known = {row.uid for row in InHand.select(InHand.uid).where(
        (InHand.mailbox == mailbox) & InHand.uid.in_(uids))}
    InHand.insert_many([{"mailbox": mailbox, "uid": uid, "run": run}
                        for uid in uids if uid not in known]).execute()


def done(taken: Taken, lived: Collection[int], keep: Container[int] = ()) -> None:
    """The pass lived through these of a batch it took: nothing to hold against them (call it
    in the transaction that commits them). What it did not live through (a stop request came
    first) stays in hand until let_go; a suspect in `keep` (given up) stays written down."""
    through = set(lived)
    if taken.row is not None:
        left = [uid for uid in taken.uids if uid not in through]
        if left:
            InHandBatch.update(uids=packed(left)).where(InHandBatch.id == taken.row).execute()
        else:
            InHandBatch.delete().where(InHandBatch.id == taken.row).execute()
    held = [uid for uid in taken.held if uid in through]
    mine = InHand.mailbox == taken.mailbox
    for start in range(0, len(held), _IN):
        gone = [uid for uid in held[start:start + _IN] if uid not in keep]
        kept = [uid for uid in held[start:start + _IN] if uid in keep]
        if gone:
            InHand.delete().where(mine & InHand.uid.in_(gone)).execute()
        if kept:  # no longer in hand: a kill later in this pass is not this message's
            InHand.update(run=None).where(mine & InHand.uid.in_(kept)).execute()


def let_go(mailbox: str, run: int) -> None:
    """At the end of a pass that lived (done, stopped or an error): what it still had in hand
    was not read, or lived through; only a suspect's kills are kept."""
    with database.atomic():
        InHandBatch.delete().where((InHandBatch.mailbox == mailbox)
                                   & (InHandBatch.run == run)).execute()
        InHand.delete().where((InHand.mailbox == mailbox) & (InHand.run == run)
                              & (InHand.kills == 0)).execute()
        InHand.update(run=None).where((InHand.mailbox == mailbox)
                                      & (InHand.run == run)).execute()
