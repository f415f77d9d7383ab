"""One pass over the inbox: fetch a batch, commit each message, then move what is committed.

Commit per message (a savepoint each, one transaction per batch), talk to the server in sets
(SPEC section 7): a UID MOVE of a set costs about what one message's MOVE does, and each costs
the server a rewrite of the folder's index, so moves wait until MOVE_EVERY messages are
committed (and go at the end of the pass, and on a stop). Worker processes read the mail ahead
(poller.passes.workers); deciding, committing and moving stay here, in order.

A pass holds its mailbox's lock (store.lock) from start to end and confirms it before every
MOVE; a stop request (SIGTERM, SIGINT) is honoured after the message in hand: what is committed
is moved, the lock released, the run recorded as `stopped`.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, closing, nullcontext
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from peewee import InterfaceError, OperationalError

from core.errors import DatabaseError, TouchlogError
from core.secrets import redact_url
from core.settings import Settings
from core.utc import naive_utc
from poller.imap.login import open_mailbox
from poller.imap.session import Mailbox
from poller.imap.wire import Fetched
from poller.passes.ending import end_pass
from poller.passes.moves import move_committed
from poller.passes.report import PollReport
from store.db import database_error, is_read_only, journal_savepoints_in_memory
from store.ledger import records as ledger
from store.ledger.models import Run
from store.lock import PassLock, holder_text, lock_for
from store.models import database

# What reads and decides mail (the parser, the rules, the workers) is imported when a pass
# has mail: an empty `poll --once` from cron starts in a fraction of the time.
if TYPE_CHECKING:
    from poller.decide.reading import Context
    from poller.decide.verdict import Outcome
    from poller.passes.broken import BrokenMessages
    from poller.passes.hand import Hand
    from poller.passes.mover import Mover
    from poller.passes.workers import Parsed, Reader

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
# Committed messages are moved this many at a time (and at the end, and on a stop).
MOVE_EVERY = 1000


def _never() -> bool:
    return False


def poll_once(settings: Settings, ctx: Context | None = None,
              should_stop: Callable[[], bool] = _never,
              progress: Progress | None = None) -> PollReport:
    """Process every message in the inbox once; a failure to reach the server or the database
    raises (nothing is moved before its commit), a bad message only counts as failed."""
    return Pass(settings, ctx, should_stop, progress).run()


def mailbox_name(settings: Settings) -> str:
    mb = settings.mailbox
    return f"{mb.username}@{mb.host}:{mb.port}/{mb.folder}"


class Pass:
    """What one pass shares: settings, the pipeline's context (and its clock), the mailbox
    session, the lock, the stop request, progress and the report being built."""

    def __init__(self, settings: Settings, ctx: Context | None = None,
                 should_stop: Callable[[], bool] = _never,
                 progress: Progress | None = None) -> None:
        self.settings = settings
        self._ctx = ctx
        self._broken: BrokenMessages | None = None
        self.should_stop = should_stop
        self.progress = progress
        self.report = PollReport()
        self.name = mailbox_name(settings)
        self.lock: PassLock = lock_for(settings.database_url(), self.name)
        self.box: Mailbox | None = None
        self.hand: Hand | None = None  # what the pass has in hand (made when it has mail)
        self.killed: list[int] = []  # the runs of this mailbox that died, closed by this one
        self.run_row: Run | None = None
        self.unmoved = 0  # committed, not moved yet (moves go MOVE_EVERY at a time)

    @property
    def ctx(self) -> Context:
        """The pipeline's context (directory, rules), made when the first message needs it."""
        if self._ctx is None:
            from poller.decide.reading import Context

            self._ctx = Context(self.settings, one_pass=True)
        return self._ctx

    @property
    def broken(self) -> BrokenMessages:
        if self._broken is None:
            from poller.passes.broken import BrokenMessages

            self._broken = BrokenMessages(self.settings, self.ctx, self.now)
        return self._broken

    def now(self) -> datetime:
        """The context's clock as the database keeps time: naive UTC."""
        return naive_utc(self._ctx.clock() if self._ctx is not None else datetime.now(UTC))

    # --- the pass --------------------------------------------------------------------------

    def run(self) -> PollReport:
        if is_read_only():
            url = redact_url(self.settings.database.url)
            raise DatabaseError(f"database {url} is read-only: a pass must record what it "
                                "does; nothing touched")
        try:
            taken = self.lock.take(self.now())
        except (OperationalError, InterfaceError, OSError) as exc:
            raise database_error(self.settings.database_url(), exc, "take the poll lock") from None
        if not taken:
            self.report.busy = True
            self.report.holder = self.lock.holder()
            return self.report
        try:
            with journal_savepoints_in_memory():
                self._locked()
        except (OperationalError, InterfaceError) as exc:  # recording the run itself failed
            raise database_error(self.settings.database_url(), exc) from None
        finally:
            self.lock.release()
        return self.report

    def _locked(self) -> None:
        run = self.run_row = ledger.start_run(self.name, holder_text(self.now()), self.now())
        self.killed = ledger.close_dead_runs(self.name, run)
        status = "error"
        try:
            with open_mailbox(self.settings) as box:
                self.box = box
                self._batches(box)
            status = "stopped" if self.report.stopped_early else "done"
        except TouchlogError as exc:
            said = self._with_unmoved(str(exc))
            self.report.errors.append(said)
            if said != str(exc):  # the one line the user sees says it too
                raise type(exc)(said) from None
            raise
        except Exception as exc:
            self.report.errors.append(f"{type(exc).__name__}: {exc}")
            raise
        finally:
            self._let_go()
            refused = end_pass(self.settings, self.report, run, status, self.now())
        if refused is not None:  # the messages are handled, the database took no more
            raise refused

    def _batches(self, box: Mailbox) -> None:
        mb = self.settings.mailbox
        box.ensure_folders(mb.logged_folder, mb.failed_folder)
        uids = box.uids(mb.folder)
        self.report.total = len(uids)
        if not uids:
            return
        from poller.passes.hand import Hand
        from poller.passes.workers import Reader
        from poller.understand.early import Knowledge

        assert self.run_row is not None, "a pass has its run before it reads mail"
        hand = self.hand = Hand(self.settings, self.name)
        planned = hand.batches(box, uids, self.run_row.id, self.killed)
        # Read ahead in worker processes; decided, committed and moved here, in order.
        committed: list[tuple[int, Outcome]] = []
        known = Knowledge(self.ctx.book, self.ctx.settings.trust)
        with Reader(len(uids), known=known) as reader, self._mover(reader) as mover:
            # Closed before the last move: a fetch still under way is over, the session ours.
            with closing(reader.batches(box, mb.folder, planned, mb.batch_bytes,
                                        hand.take)) as batches:
                for batch in batches:
                    committed += self._batch(batch, len(uids), hand)
                    # Every MOVE makes the server rewrite the folder's index, a cost that grows
                    # with the folder: a few large moves keep a 50,000-message inbox as fast
                    # per message as a small one. Committed first, so a crash loses nothing.
                    if len(committed) >= MOVE_EVERY and not self.report.stopped_early:
                        self._move(box, committed, mover)
                        committed = []
                    self._save_counts()
                    if self.report.stopped_early:
                        break
            if mover is not None:
                self.unmoved -= mover.wait()
            self._move(box, committed)

    def _mover(self, reader: Reader) -> AbstractContextManager[Mover | None]:
        """A pass read by workers moves on a session of its own (poller.passes.mover)."""
        if reader.pool is None:
            return nullcontext()
        from poller.passes.mover import Mover

        return Mover(self.settings, self.lock)

    def _batch(self, batch: Iterable[tuple[Fetched, Parsed]], total: int,
               hand: Hand) -> list[tuple[int, Outcome]]:
        outcomes: list[tuple[int, Outcome]] = []
        lived: list[int] = []
        # One transaction per batch, a savepoint per message (commit's own atomic nests): the
        # batch's pages are written once, not once per message. Nothing is moved before it is
        # committed; a crash leaves the whole batch in the inbox, to be read again.
        with database.atomic():
            for fetched, parsed in batch:
                outcome = self._one(fetched, parsed)
                if outcome is not None:
                    outcomes.append((fetched.uid, outcome))
                lived.append(fetched.uid)
                self.report.done += 1
                if self.progress:
                    self.progress(self.report.done, total)
                if self.should_stop():
                    self.report.stopped_early = True
                    break
            hand.done(lived)
        self.unmoved += len(outcomes)
        return outcomes

    def _one(self, fetched: Fetched, parsed: Parsed | None = None) -> Outcome | None:
        from poller.decide.pipeline import decide, decide_unread
        from poller.decide.reading import Source
        from poller.passes.commit import commit
        from poller.passes.workers import Broken

        source = Source(self.settings.mailbox.folder, fetched.uid, fetched.internal_date)
        if not fetched.whole and self.hand is not None and self.hand.given_up(fetched.uid):
            return self.broken.killed(fetched, source, self.hand.kills(fetched.uid), self.report)
        try:
            if isinstance(parsed, Broken):
                raise RuntimeError(f"reading the message failed: {parsed.error}")
            # A savepoint of its own: a statement that fails while deciding (PostgreSQL then
            # refuses the rest of the transaction) takes back this message only; its writes
            # go in the same savepoint (commit's `savepoint`). Inside the batch's transaction
            # (_batch), so a savepoint outright: atomic() would first ask which it is.
            with database.savepoint() as savepoint:
                verdict = decide(fetched.raw, self.ctx, source, parsed) if fetched.whole \
                    else decide_unread(fetched.raw, self.ctx, source, fetched.size)
                outcome = commit(verdict, savepoint)
        except (OperationalError, InterfaceError) as exc:
            raise database_error(self.settings.database_url(), exc) from None
        except TouchlogError:
            raise
        except OSError as exc:  # the disk, not the message: stop, nothing is moved
            where = self.settings.attachments_path()
            cause = "disk full" if exc.errno == errno.ENOSPC else "cannot write"
            raise DatabaseError(f"attachments {where}: {cause}: {exc.strerror or exc}") from None
        except Exception as exc:  # a bug must not stop the pass (SPEC 17)
            return self.broken.broke(fetched, source, exc, self.report)
        self.report.add(outcome)
        return outcome

    # --- moving ----------------------------------------------------------------------------

    def _move(self, box: Mailbox, outcomes: list[tuple[int, Outcome]],
              mover: Mover | None = None) -> None:
        if mover is not None:  # moved while the pass goes on; the set before is moved now
            self.unmoved -= mover.hand(outcomes)
            return
        move_committed(box, self.settings.mailbox, self.lock.confirm, outcomes)
        self.unmoved = 0

    # --- the end of a pass -----------------------------------------------------------------

    def _with_unmoved(self, error: str) -> str:
        if not self.unmoved:
            return error
        return (f"{error} ({self.unmoved} committed message(s) not moved yet: the next pass "
                "moves them)")

    def _let_go(self) -> None:
        """What the pass still holds is not held against any message: it lived."""
        if self.hand is None:
            return
        try:
            self.hand.let_go()
        except (OperationalError, InterfaceError) as exc:  # the run's record says what broke
            log.info("could not let go of the messages in hand: %s", " ".join(str(exc).split()))

    def _save_counts(self) -> None:
        if self.run_row is not None:
            ledger.update_run(self.run_row, self.report.run_counts())
