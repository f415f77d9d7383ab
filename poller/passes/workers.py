"""Both cores (SPEC 17): reading the MIME of a message, most of its cost, runs in worker
processes (one per core), while the pass commits and moves in order in its own process. The next
batch is fetched and handed to the workers before the current one is committed and moved, so
they read ahead instead of waiting for the server or the database.

The workers also compute what the message alone decides (poller.understand.early: the filters, the
trusted server's verdict, who takes part), from the pass's own address book and trust settings.
Every step that reads the ledger or the directory, and every write, runs in the pass's own order,
so each message sees exactly what the messages before it committed (a second copy, a thread's
parent, the history tie-breaks): the exactly-once promises are those of a serial pass, and a pass
gives the same results with one worker or with many.

While the pass commits a batch, a thread of its own fetches the next one (the server's answer
was a tenth of the pass's wall time spent waiting, on 20,000 notes): the pass's IMAP session is
used by that thread alone until the pass asks for the batch, and the in-hand record of each batch
(store.ledger.in_hand) is written by the pass, before its fetch starts.

A small pass (under PARALLEL_MIN messages: an IDLE wake-up, a cron minute's mail) is read in
this process: starting the workers (~0.2 s on an idle 2-core machine, a second or more on a busy
one) would cost more than reading ahead saves (~0.7 ms a message). A worker that dies (a crash,
the OOM killer) is not a lost message: what it held is read here instead, and the pass goes on.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from core.errors import MessageError
from poller.imap.session import Mailbox
from poller.imap.wire import Fetched
from poller.mail.message import Message, parse_message
from poller.passes.batches import HEADER_COST, HEADER_FIELDS, Batch, may_read_ahead
from poller.understand.early import Ahead, Knowledge, look_ahead

log = logging.getLogger(__name__)

PARALLEL_MIN = 500
CHUNK = 8  # messages per hand-over to a worker: fewer round trips, still an even spread
# A larger message is read in the pass's own process: handing it to a worker and its reading
# back would cost a copy of each on both sides (SPEC 20: a pass holds under 4x its largest).
WORKER_MAX_BYTES = 1_000_000


@dataclass(frozen=True)
class Broken:
    """The parser itself failed (a bug, not a bad message): raised again in the pass, where
    poller.passes.broken counts the try like any other unexpected error."""

    error: str


Parsed = Message | Ahead | MessageError | Broken | None  # None: not read whole
Read = tuple[list[Fetched], Iterator[Parsed]]  # a batch fetched, and its reading under way
Pairs = Iterator[tuple[Fetched, Parsed]]
_known: Knowledge | None = None  # in a worker: what look_ahead needs, set by start_worker


def read(raw: bytes) -> Parsed:
    """What a worker does with one message: parse it, never raise."""
    try:
        return parse_message(raw)
    except MessageError as exc:
        return exc
    except Exception as exc:
        log.debug("parser failed: %s", traceback.format_exc())
        return Broken(f"{type(exc).__name__}: {exc}")


def read_ahead(raw: bytes) -> Parsed:
    """What a worker does with one message: read it, then learn what it alone decides."""
    parsed = read(raw)
    if isinstance(parsed, Message) and _known is not None:
        return look_ahead(parsed, _known)
    return parsed


def start_worker(pid: int, known: Knowledge | None) -> None:
    """A worker's initializer: end with the pass (watch_parent), keep what look_ahead needs."""
    global _known
    _known = known
    watch_parent(pid)


def watch_parent(pid: int) -> None:
    """In each worker: end when the pass's process is gone. Killed with `kill -9` it cannot
    shut its pool down, and orphaned workers would live on (holding its stdout, memory) after
    every such kill."""
    def watch() -> None:
        while _alive(pid):
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


def _alive(pid: int) -> bool:
    """A killed process stays a zombie until its parent reaps it, and a zombie still answers
    kill(pid, 0): on Linux, read its state."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except FileNotFoundError:
        return False
    except (OSError, IndexError):  # no /proc here: ask the kernel
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True


def worker_count() -> int:
    """One per core this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class Reader:
    """Fetches a pass's UIDs batch by batch and reads them ahead in worker processes.

    Use as a context manager; the workers end with it (before the pass lets go of its lock)."""

    def __init__(self, messages: int, workers: int | None = None,
                 known: Knowledge | None = None) -> None:
        self.workers = workers or worker_count()
        self.pool: Executor | None = None
        if messages >= PARALLEL_MIN and self.workers > 1:
            # forkserver: workers forked from a fresh server process, so they inherit neither
            # this process's threads (the IDLE session, the scheduler) nor its open files (the
            # database, the pass lock), and start with the parser already imported.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["poller.understand.early"])
            self.pool = ProcessPoolExecutor(self.workers, mp_context=context,
                                            initializer=start_worker,
                                            initargs=(os.getpid(), known))
        self._fetcher = ThreadPoolExecutor(1, thread_name_prefix="touchlog-fetch") \
            if self.pool is not None else None

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fetcher is not None:  # before the session closes: no fetch still on it
            self._fetcher.shutdown(wait=True, cancel_futures=True)
            self._fetcher = None
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def batches(self, box: Mailbox, folder: str, planned: Iterable[Batch], batch_bytes: int,
                take: Callable[[list[int]], None]) -> Generator[Pairs, None, None]:
        """Each batch as (fetched, parsed) pairs in UID order (parsed None: only headers were
        fetched). The caller commits a batch before asking for the next; the batch after it
        is already fetched and being read, when batches.may_read_ahead allows. `take` hears the
        UIDs of each batch before it is fetched (store.ledger.in_hand)."""
        batches = iter(planned)
        ahead: deque[tuple[Batch, Future[Read]]] = deque()
        following = next(batches, None)
        try:
            while following is not None or ahead:
                if not ahead and following is not None:
                    ahead.append(self._hand_over(box, folder, following, take))
                    following = next(batches, None)
                if following is not None and may_read_ahead(ahead[0][0], following,
                                                            batch_bytes):
                    ahead.append(self._hand_over(box, folder, following, take))
                    following = next(batches, None)
                fetched, parsed = ahead[0][1].result()
                ahead.popleft()
                yield self._pairs(fetched, parsed)
        finally:  # stopped early, or failed: the session is the pass's again
            for _, flight in ahead:
                if not flight.cancel():  # under way: wait for it, its error no longer ours
                    flight.exception()

    def _hand_over(self, box: Mailbox, folder: str, batch: Batch,
                   take: Callable[[list[int]], None]) -> tuple[Batch, Future[Read]]:
        """Record `batch` in hand, then fetch it and give it to the workers: on the fetch
        thread when there is one (the answer is read while the pass commits), else here."""
        take(batch.uids)
        if self._fetcher is not None:
            return batch, self._fetcher.submit(self._fetch, box, folder, batch)
        done: Future[Read] = Future()
        done.set_result(self._fetch(box, folder, batch))
        return batch, done

    def _fetch(self, box: Mailbox, folder: str, batch: Batch) -> Read:
        fetched = list(box.fetch(folder, batch.whole))
        if batch.unread:
            fetched += box.fetch_headers(folder, batch.unread, HEADER_FIELDS, HEADER_COST)
            fetched.sort(key=lambda f: f.uid)
        raws = [f.raw for f in fetched if _for_a_worker(f)]  # the others are read in _pairs
        pool = self.pool
        # A suspect is read here: a worker that dies of it would only hand it back.
        if pool is None or batch.alone:
            return fetched, map(read, raws)
        try:
            return fetched, pool.map(read_ahead, raws, chunksize=CHUNK)
        except (BrokenProcessPool, RuntimeError):  # the pool died or was shut meanwhile
            return fetched, map(read, raws)

    def _pairs(self, fetched: Iterable[Fetched],
               parsed: Iterator[Parsed]) -> Iterator[tuple[Fetched, Parsed]]:
        for item in fetched:
            if not item.whole:
                yield item, None
                continue
            if not _for_a_worker(item):
                yield item, read(item.raw)
                continue
            try:
                result = next(parsed)
            except BrokenProcessPool:
                self._lost_workers()
                parsed = iter(())
                result = read(item.raw)
            except StopIteration:  # after a broken pool: the rest is read here
                result = read(item.raw)
            yield item, result

    def _lost_workers(self) -> None:
        if self.pool is not None:  # a batch already handed to the dead pool says so again
            log.warning("a worker process died; this pass reads the rest of its messages "
                        "itself")
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None


def _for_a_worker(fetched: Fetched) -> bool:
    return fetched.whole and len(fetched.raw) <= WORKER_MAX_BYTES
