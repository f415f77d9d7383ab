"""One sync run: settings in, a report out (SPEC 15).

`SalesforceSync(settings).run(direction)` takes the sync's lock (one run at a time, across
processes; store.lock, so it dies with its holder), connects, runs inbound then outbound for
touchpoints and tasks, and records the run.
Inbound goes first so that a conflict is decided once, with both sides' changes in view.
A SalesforceError stops the run: what was committed stays, watermarks stay where that left them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from core.errors import SalesforceError
from core.settings import Settings
from core.utc import utcnow
from store.lock import PassLock, lock_for
from sync import state
from sync.context import SyncContext, SyncReport
from sync.state import TASK, TOUCHPOINT

log = logging.getLogger(__name__)

LOCK = "salesforce-sync"


class SyncBusy(Exception):
    """Another run holds the lock."""


class SalesforceSync:
    def __init__(self, settings: Settings, clock: Callable[[], datetime] = utcnow,
                 connect: Callable[[Settings], Any] | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.connect = connect
        self.lock: PassLock | None = None

    def run(self, direction: str = "both", full: bool = False,
            dry_run: bool = False) -> SyncReport:
        state.ensure_tables()
        if dry_run:  # reads only: no lock, no run row, every page rolled back
            return self._run(direction, full, dry_run)
        lock = lock_for(self.settings.database_url(), LOCK)
        if not lock.take(self.clock()):
            raise SyncBusy(f"another Salesforce sync is running ({lock.holder()})")
        self.lock = lock
        try:
            return self._run(direction, full, dry_run)
        finally:
            self.lock = None
            lock.release()

    def _run(self, direction: str, full: bool, dry_run: bool) -> SyncReport:
        from sync.client import connect
        from sync.inbound import sync_in
        from sync.outbound import sync_out

        client = (self.connect or connect)(self.settings)
        report = SyncReport(dry_run=dry_run)
        now = self.clock()
        run = None if dry_run else state.start_run(direction, full, now)
        ctx = SyncContext(self.settings, client, report, run, full, dry_run, now, self._renew)
        status, error = "done", ""
        try:
            for kind in (TOUCHPOINT, TASK):
                if direction in ("in", "both"):
                    sync_in(ctx, kind)
            for kind in (TOUCHPOINT, TASK):
                if direction in ("out", "both"):
                    sync_out(ctx, kind)
        except SalesforceError as exc:
            status, error = "error", str(exc)
            raise
        finally:
            report.requests = client.requests
            if run is not None:
                state.finish_run(run, report.counts, status, error, report.requests,
                                 self.clock())
        return report

    def _renew(self) -> None:
        """After every page: a run whose lock was taken from it stops (LockLost)."""
        if self.lock is not None:
            self.lock.confirm()
