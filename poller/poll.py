"""One pass over the inbox: fetch a batch, commit each message, then move the batch.

Commit per message, talk to the server per batch (SPEC section 7): a UID MOVE of a set costs
about what one message's MOVE does, so moves wait until the batch's commits are done.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from peewee import InterfaceError, OperationalError

from poller import notices
from poller.commit import commit
from poller.errors import DatabaseError, TouchlogError
from poller.mailbox import Mailbox
from poller.pipeline import Context, Source, decide
from poller.settings import Settings
from poller.signin import open_mailbox
from poller.verdict import Outcome
from store import ledger

log = logging.getLogger(__name__)


@dataclass
class PollReport:
    counts: Counter = field(default_factory=Counter)  # logged / skipped / failed / error
    reasons: Counter = field(default_factory=Counter)  # per rule, skip reason or failure code
    errors: list[str] = field(default_factory=list)
    notices: notices.NoticeReport | None = None
    run_id: int | None = None
    stopped_early: bool = False
    busy: bool = False  # another worker holds this mailbox's lease: nothing was done

    def add(self, outcome: Outcome) -> None:
        self.counts[outcome.outcome] += 1
        self.reasons[f"{outcome.outcome}:{outcome.reason}"] += 1

    def summary(self) -> str:
        """`logged 3, skipped 1 (auto_generated 1), failed 1 (no_account 1)`"""
        if self.busy:
            return "another worker is polling this mailbox; nothing done this time"
        parts = []
        for name in ("logged", "skipped", "failed"):
            why = ", ".join(f"{key.split(':', 1)[1]} {n}"
                            for key, n in sorted(self.reasons.items())
                            if key.startswith(name + ":") and name != "logged")
            parts.append(f"{name} {self.counts.get(name, 0)}" + (f" ({why})" if why else ""))
        if self.counts.get("error"):
            parts.append(f"errors {self.counts['error']}")
        return ", ".join(parts)


Progress = Callable[[int, int], None]


def poll_once(settings: Settings, ctx: Context | None = None,
              should_stop: Callable[[], bool] = lambda: False,
              progress: Progress | None = None) -> PollReport:
    """Process every message in the inbox once; a failure to reach the server or the database
    raises (nothing is moved before its commit), a bad message only counts as failed."""
    ctx = ctx or Context(settings)
    report = PollReport()
    lease = Lease(settings)
    if not lease.take():
        report.busy = True
        return report
    run = ledger.start_run()
    report.run_id = run.id
    status = "error"
    try:
        with open_mailbox(settings) as box:
            _pass(box, settings, ctx, report, should_stop, progress, lease)
        status = "done"
    except TouchlogError as exc:
        report.errors.append(str(exc))
        raise
    finally:
        lease.release()
        if settings.notify.enabled:
            report.notices = _send_notices(settings, report)
        ledger.finish_run(run, _run_counts(report), report.errors, status)
    return report


class Lease:
    """One pass per mailbox at a time, across processes and machines sharing the database."""

    SECONDS = 120  # renewed after every batch; a crashed worker blocks the mailbox this long

    def __init__(self, settings: Settings) -> None:
        mb = settings.mailbox
        self.name = f"{mb.username}@{mb.host}:{mb.port}/{mb.folder}"
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def take(self) -> bool:
        return ledger.take_lease(self.name, self.holder, self.SECONDS)

    def release(self) -> None:
        ledger.release_lease(self.name, self.holder)


def _pass(box: Mailbox, settings: Settings, ctx: Context, report: PollReport,
          should_stop: Callable[[], bool], progress: Progress | None, lease: Lease) -> None:
    mb = settings.mailbox
    box.ensure_folders(mb.logged_folder, mb.failed_folder)
    uids = box.uids(mb.folder)
    done = 0
    for batch in _chunks(uids, mb.batch_size):
        outcomes = []
        for fetched in box.fetch(mb.folder, batch, mb.batch_size):
            outcomes.append((fetched.uid, _one(fetched, mb.folder, ctx, report)))
            done += 1
            if progress:
                progress(done, len(uids))
            if should_stop():
                report.stopped_early = True
                break
        _move(box, settings, outcomes)
        if report.stopped_early:
            return
        if not lease.take():
            raise DatabaseError(f"lost the lease on {lease.name} (a batch took over "
                                f"{lease.SECONDS}s); stopping, the next pass goes on")


def _one(fetched, folder: str, ctx: Context, report: PollReport) -> Outcome | None:
    source = Source(folder, fetched.uid, fetched.internal_date)
    try:
        outcome = commit(decide(fetched.raw, ctx, source))
    except (OperationalError, InterfaceError) as exc:
        raise DatabaseError(f"database: {exc}") from None
    except TouchlogError:
        raise
    except Exception as exc:  # a bug must not stop the pass; the message stays in the inbox
        log.exception("message uid %s in %s could not be processed", fetched.uid, folder)
        report.counts["error"] += 1
        report.errors.append(f"uid {fetched.uid}: {type(exc).__name__}: {exc}")
        return None
    report.add(outcome)
    return outcome


def _move(box: Mailbox, settings: Settings, outcomes: list[tuple[int, Outcome | None]]) -> None:
    mb = settings.mailbox
    logged = [uid for uid, o in outcomes if o and o.movable and o.outcome != "failed"]
    by_keyword: dict[str, list[int]] = {}
    for uid, o in outcomes:
        if o and o.movable and o.outcome == "failed":
            by_keyword.setdefault(o.keyword, []).append(uid)
    # If the server fails here the batch is committed but not moved: the next pass recognises
    # every key and only moves the messages.
    for keyword, uids in by_keyword.items():
        # Flag first: MOVE carries keywords along, and the failed folder is read by keyword.
        box.add_keyword(mb.folder, uids, keyword)
    failed = [uid for uids in by_keyword.values() for uid in uids]
    if failed:
        box.move(mb.folder, failed, mb.failed_folder)
    if logged:
        box.move(mb.folder, logged, mb.logged_folder)


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _send_notices(settings: Settings, report: PollReport) -> notices.NoticeReport | None:
    try:
        sent = notices.send_pending(settings)
    except Exception as exc:  # notices never block or lose a message
        log.exception("sending notices failed")
        report.errors.append(f"notices: {exc}")
        return None
    if sent.failed:
        # The messages are handled; say why their senders have not been told yet.
        report.errors.append(f"notices: {sent.pending} pending, not sent: {sent.error}")
    return sent


def _run_counts(report: PollReport) -> dict[str, int]:
    counts = dict(report.counts)
    counts.update(report.reasons)
    if report.notices is not None:
        counts.update({f"notices:{k}": v for k, v in _notice_counts(report.notices)})
    return counts


def _notice_counts(report: notices.NoticeReport) -> Iterable[tuple[str, int]]:
    for name in ("sent", "suppressed", "failed", "pending", "withdrawn"):
        yield name, getattr(report, name, 0)
