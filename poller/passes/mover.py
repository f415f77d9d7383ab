"""Moving a large pass's committed messages on an IMAP session of their own, while the pass goes
on reading and committing (SPEC 7, 17).

A MOVE costs the server about a tenth of a millisecond a message (Dovecot rewrites the folder's
index and renames each file: 131 ms for 1,000 notes in a 20,000-message inbox, 10 ms of it the
client's CPU), time the pass's one serial process spent waiting. Here a thread sends the MOVE on
a second session and the pass commits the next messages meanwhile. What does not change: nothing
is moved before its commit (a set is handed over only once committed), one set is moved at a
time and the pass confirms it still holds the lock right before handing each over (it waits for
the set before), and every set is moved, or its error raised, before the pass lets go of the
lock. A pass killed meanwhile leaves committed messages in the inbox, which the next pass only
moves (`recovered`), as before.

Only a pass read by worker processes moves this way (poller.passes.workers.PARALLEL_MIN): for a
few messages a second login costs more than the wait it saves.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from core.settings import Settings
from poller.imap.login import open_mailbox
from poller.imap.session import Mailbox
from poller.passes.moves import move_committed
from store.lock import PassLock

if TYPE_CHECKING:
    from poller.decide.verdict import Outcome


class Mover:
    """Use as a context manager around the pass's batches; `hand` a committed set, `wait` for
    the one in flight (its error raised there, in the pass's own thread)."""

    def __init__(self, settings: Settings, lock: PassLock) -> None:
        self.settings = settings
        self.lock = lock
        self.box: Mailbox | None = None  # opened by the thread, with the first set
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="touchlog-move")
        self._flight: Future[None] | None = None
        self.in_flight = 0  # messages handed over and not known to be moved yet

    def __enter__(self) -> Mover:
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        try:
            if error is None:
                self.wait()
            elif self._flight is not None:  # the pass failed already: its error is the one
                self._flight.exception()
        finally:
            self._thread.shutdown(wait=True)
            if self.box is not None:
                self.box.close()

    def hand(self, outcomes: list[tuple[int, Outcome]]) -> int:
        """Move `outcomes` (committed) on the mover's session; first the set before must be
        moved, and the lock still ours. How many messages are known moved now (the set before,
        and this one when nothing of it moves)."""
        moved = self.wait()
        if not any(o.movable for _, o in outcomes):
            return moved + len(outcomes)
        self.lock.confirm()
        self.in_flight = len(outcomes)
        self._flight = self._thread.submit(self._move, outcomes)
        return moved

    def wait(self) -> int:
        """The set in flight is moved (how many it held); raises what moving it raised."""
        flight, self._flight = self._flight, None
        if flight is not None:
            flight.result()
        moved, self.in_flight = self.in_flight, 0
        return moved

    def _move(self, outcomes: list[tuple[int, Outcome]]) -> None:
        if self.box is None:
            self.box = open_mailbox(self.settings)
        # The lock was confirmed in the pass's thread just now (a PostgreSQL advisory lock
        # can only be asked on the pass's own connection): none to confirm here.
        move_committed(self.box, self.settings.mailbox, _confirmed, outcomes)


def _confirmed() -> None:
    """The lock as the mover's thread sees it: the pass confirmed it before handing over."""
