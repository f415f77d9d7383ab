"""`touchlog poll`: a pass every `schedule.interval_seconds`, one at a time, until a signal.

APScheduler 3.x runs the passes in its worker thread; the main thread only waits for SIGINT or
SIGTERM, then asks the pass in hand to stop after its current message and waits for it. With
`schedule.idle`, an IDLE session (poller.imap.idle) wakes the scheduler as soon as mail arrives;
mail that arrives during a pass gets another pass right after it.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from core.errors import TouchlogError
from core.settings import Settings

log = logging.getLogger(__name__)

PassFunction = Callable[[Callable[[], bool]], object]
# Another job on its own interval (the Salesforce sync): (name, seconds, function).
Job = tuple[str, int, PassFunction]


class StopOnSignal:
    """SIGINT/SIGTERM ask the pass in hand to stop after its current message (what `timeout`,
    a systemd or container stop and Ctrl-C send); a second one stops at once, as usual.

    `signal` is the number of the first one received, for the exit status (128 + it)."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.signal: int | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is not threading.main_thread():
            return self  # only the main thread may take signals (a pass run from a thread)
        for sig in self.SIGNALS:
            self._previous[sig] = signal.signal(sig, self._received)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]

    def _received(self, number: int, _frame: object) -> None:
        if self.signal is not None:
            signal.signal(number, signal.SIG_DFL)
            signal.raise_signal(number)
            return
        self.signal = number
        log.warning("signal %d: stopping after the message in hand", number)

    def is_set(self) -> bool:
        return self.signal is not None

    @property
    def exit_status(self) -> int:
        return 128 + self.signal if self.signal is not None else 0


class Poller:
    def __init__(self, settings: Settings, run_pass: PassFunction,
                 jobs: tuple[Job, ...] = ()) -> None:
        # Imported here: only the service needs APScheduler, `poll --once` starts faster.
        from apscheduler.schedulers.background import BackgroundScheduler

        self.settings = settings
        self.run_pass = run_pass
        self.jobs = jobs
        self.stopping = threading.Event()
        self.scheduler = BackgroundScheduler(timezone=UTC)
        self.watcher: Any = None
        self._wanted = threading.Event()  # mail came (or IDLE reconnected): pass again
        self._state = threading.Lock()
        self._running = False

    def start(self) -> None:
        self.scheduler.add_job(
            self._tick, "interval", seconds=self.settings.schedule.interval_seconds,
            next_run_time=datetime.now(UTC), max_instances=1, coalesce=True,
            id="poll", misfire_grace_time=None,
        )
        # max_instances=1: a job still running when its next time comes is not started twice.
        for name, seconds, function in self.jobs:
            self.scheduler.add_job(
                self._job, "interval", args=(name, function), seconds=seconds,
                next_run_time=datetime.now(UTC), max_instances=1, coalesce=True, id=name,
                misfire_grace_time=None)
        self.scheduler.start()
        if self.settings.schedule.idle:
            from poller.imap.idle import Watcher

            self.watcher = Watcher(self.settings, self.wake, self.stopping).start()

    def wake(self, why: str = "") -> None:
        """A pass now, or right after the one running (which may have listed its UIDs already)."""
        with self._state:
            self._wanted.set()
            if self._running or self.stopping.is_set():
                return
        log.debug("pass wanted: %s", why)
        self.scheduler.modify_job("poll", next_run_time=datetime.now(UTC))

    def _tick(self) -> None:
        with self._state:
            self._running = True
        while True:
            self._wanted.clear()
            if not self.stopping.is_set():
                self._one_pass()
            with self._state:  # decided under the lock: a wake() from now on is never lost
                if not self._wanted.is_set() or self.stopping.is_set():
                    self._running = False
                    return

    def _one_pass(self) -> None:
        try:
            self.run_pass(self.stopping.is_set)
        except TouchlogError as exc:
            # A dead server or database: say so and try again at the next interval.
            log.error("%s", exc)
        except Exception:
            log.exception("poll pass failed")

    def _job(self, name: str, function: PassFunction) -> None:
        if self.stopping.is_set():
            return
        try:
            function(self.stopping.is_set)
        except TouchlogError as exc:
            log.error("%s: %s", name, exc)
        except Exception:
            log.exception("%s failed", name)

    def stop(self, *_: object) -> None:
        self.stopping.set()

    def run_until_signal(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self.stop)
        self.start()
        while not self.stopping.wait(0.5):
            pass
        log.info("stopping: finishing the message in hand")
        self.scheduler.shutdown(wait=True)
