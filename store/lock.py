"""One pass per mailbox (SPEC 17): a lock that dies with its holder.

PostgreSQL: a session advisory lock, held by the connection the pass writes with; the server drops
it when that session ends, however the worker ends. SQLite: an OS file lock (`flock`) on a file
beside the database; the kernel drops it when the process ends, `kill -9` included. An in-memory
database lives and dies with one process, so its lock only keeps that process's passes apart.

A lock that a live but stalled worker holds (SIGSTOP, a VM pause) is still held: the next worker
waits for the next turn rather than moving what the stalled one may still move. `confirm()` runs
before every MOVE, so a worker whose session was ended meanwhile (its PostgreSQL backend killed,
its lock file replaced) stops instead of moving messages another worker now handles.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import socket
import threading
from datetime import datetime
from pathlib import Path
from typing import Protocol

from core.errors import LockLost
from core.private import FILE_MODE
from store.models import database

# The first key of PostgreSQL's two-key advisory locks: "tlog", so other applications' locks
# on the same database never collide with ours.
PG_NAMESPACE = 0x746C6F67


def holder_text(now: datetime) -> str:
    """Who holds the lock, in words: shown to a worker that finds it taken."""
    return f"pid {os.getpid()} on {socket.gethostname()} since {now:%Y-%m-%d %H:%M:%S} UTC"


class PassLock(Protocol):
    name: str

    def take(self, now: datetime) -> bool: ...

    def holder(self) -> str: ...

    def confirm(self) -> None: ...

    def release(self) -> None: ...


def lock_for(database_url: str, name: str) -> PassLock:
    """The lock for mailbox `name` on the database at `database_url` (already resolved)."""
    if database_url.startswith(("postgresql://", "postgres://")):
        return AdvisoryLock(name)
    path = database_url[len("sqlite:///"):]
    if not path or path == ":memory:" or path.startswith("file::memory:"):
        return ProcessLock(name)
    return FileLock(name, lock_path(Path(path), name))


def lock_path(db_path: Path, name: str) -> Path:
    """`touchlog.db.poll-1a2b3c4d.lock`: beside the database, one per mailbox."""
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    return db_path.with_name(f"{db_path.name}.poll-{digest}.lock")


class FileLock:
    """`flock` on a file that is never deleted: deleting it would let a worker that opened the
    old file and one that creates a new one both hold "the" lock."""

    def __init__(self, name: str, path: Path) -> None:
        self.name = name
        self.path = path
        self._fd: int | None = None

    def take(self, now: datetime) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        try:  # who holds it, for the worker that finds it taken; a full disk only loses that
            os.ftruncate(fd, 0)
            os.pwrite(fd, holder_text(now).encode() + b"\n", 0)
        except OSError:
            pass
        return True

    def holder(self) -> str:
        try:
            return self.path.read_text(errors="replace").strip() or "another worker"
        except OSError:
            return "another worker"

    def confirm(self) -> None:
        if self._fd is None:
            raise LockLost(f"not holding the lock on {self.name}")
        mine = os.fstat(self._fd)
        try:
            current = os.stat(self.path)
        except FileNotFoundError:
            current = None
        if current is None or (current.st_dev, current.st_ino) != (mine.st_dev, mine.st_ino):
            raise LockLost(f"lock file {self.path} was removed or replaced: another worker may "
                           f"be polling {self.name}; stopping, nothing more moved")

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                os.ftruncate(fd, 0)
            except OSError:
                pass
            os.close(fd)  # closing drops the flock


class AdvisoryLock:
    """`pg_try_advisory_lock` on the connection the pass uses; never waits."""

    def __init__(self, name: str) -> None:
        self.name = name
        # objid is an oid (unsigned) in pg_locks: keep the key non-negative to compare it there.
        self.key = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:4]) & 0x7FFFFFFF
        self._held = False

    def take(self, now: datetime) -> bool:
        row = database.execute_sql("SELECT pg_try_advisory_lock(%s, %s)",
                                   (PG_NAMESPACE, self.key)).fetchone()
        self._held = bool(row and row[0])
        if self._held:
            # Shown to a worker that finds the lock taken (pg_stat_activity.application_name).
            database.execute_sql("SELECT set_config('application_name', %s, false)",
                                 (f"touchlog {holder_text(now)}"[:63],))
        return self._held

    def holder(self) -> str:
        row = database.execute_sql(
            "SELECT a.application_name, a.pid FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
            "AND l.classid = %s AND l.objid = %s AND l.objsubid = 2 AND l.granted",
            (PG_NAMESPACE, self.key)).fetchone()
        if row is None:
            return "another worker"
        return row[0] or f"PostgreSQL session {row[1]}"

    def confirm(self) -> None:
        try:
            row = database.execute_sql(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s "
                "AND objid = %s AND objsubid = 2 AND pid = pg_backend_pid() AND granted",
                (PG_NAMESPACE, self.key)).fetchone()
        except Exception as exc:  # the session is gone, and with it the lock
            raise LockLost(f"lost the database session holding the lock on {self.name} "
                           f"({' '.join(str(exc).split())}); stopping, nothing more "
                           "moved") from None
        if not self._held or not row or row[0] != 1:
            raise LockLost(f"no longer holding the lock on {self.name}: another worker may be "
                           "polling it; stopping, nothing more moved")

    def release(self) -> None:
        if not self._held:
            return
        self._held = False
        try:
            database.execute_sql("SELECT pg_advisory_unlock(%s, %s)", (PG_NAMESPACE, self.key))
        except Exception:  # a lost session has released it already
            pass


_process_locks: dict[str, threading.Lock] = {}
_process_guard = threading.Lock()


class ProcessLock:
    """For an in-memory database: no other process can share it, so only this one's passes
    need keeping apart."""

    def __init__(self, name: str) -> None:
        self.name = name
        with _process_guard:
            self._lock = _process_locks.setdefault(name, threading.Lock())
        self._held = False

    def take(self, now: datetime) -> bool:
        self._held = self._lock.acquire(blocking=False)
        return self._held

    def holder(self) -> str:
        return "another pass in this process"

    def confirm(self) -> None:
        if not self._held:
            raise LockLost(f"not holding the lock on {self.name}")

    def release(self) -> None:
        if self._held:
            self._held = False
            self._lock.release()
