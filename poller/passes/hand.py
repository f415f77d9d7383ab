"""What a pass has in hand, and how much of each message it reads (SPEC 20).

Sizes first (RFC822.SIZE, of the messages over a size only), then batches cut by count and
bytes (poller.passes.batches); a message over `mailbox.max_message_bytes` is read by its headers
only and fails `too_large`. Every batch
is written down before it is fetched (store.ledger.in_hand), so that a pass the kernel kills
(out of memory) or SIGKILL stops is known to the next one: what it had in hand is read one
message at a time, and a message that kills a pass alone counts a try, so that after
`mailbox.max_attempts` it ends as `internal_error` instead of killing every pass for ever.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from core.settings import Settings
from poller.imap.session import Mailbox
from poller.passes.batches import Batch, plan, small_bound
from store.ledger import in_hand


class Hand:
    def __init__(self, settings: Settings, mailbox: str) -> None:
        self.mb = settings.mailbox
        self.mailbox = mailbox  # the pass's mailbox name (poller.passes.poll.mailbox_name)
        self.run: int | None = None
        self.suspects: dict[int, int] = {}  # UID -> passes that died with it alone in hand
        self.taken: list[in_hand.Taken] = []  # the batches in hand (two when reading ahead)

    def batches(self, box: Mailbox, uids: Sequence[int], run: int,
                killed: Sequence[int]) -> Iterator[Batch]:
        """The pass's batches, after the runs that died (`killed`) are accounted for."""
        self.run = run
        sizes = box.sizes_over(self.mb.folder, min(small_bound(self.mb),
                                                   self.mb.max_message_bytes))
        self.suspects = in_hand.settle(self.mailbox, killed, set(uids))
        return plan(uids, sizes, self.mb, self.suspects)

    def take(self, uids: list[int]) -> None:
        if self.run is not None:
            self.taken.append(in_hand.take(self.mailbox, self.run, uids, self.suspects))

    def done(self, uids: Sequence[int]) -> None:
        """The pass lived through these, of the batch they came in (within the transaction
        that commits them); a message given up unread stays written down until it has left the
        folder, so that it is never read whole again."""
        if not uids:
            return
        for n, taken in enumerate(self.taken):
            if uids[0] in taken:
                del self.taken[n]
                in_hand.done(taken, uids, keep=[u for u in taken.held if self.given_up(u)])
                return

    def let_go(self) -> None:
        self.taken.clear()
        if self.run is not None:
            in_hand.let_go(self.mailbox, self.run)

    def given_up(self, uid: int) -> bool:
        """Killed `max_attempts` passes: not read again (poller.passes.broken gives it up)."""
        return self.kills(uid) >= self.mb.max_attempts

    def kills(self, uid: int) -> int:
        return self.suspects.get(uid, 0)
