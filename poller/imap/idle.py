"""Near-real-time (SPEC 16): a session of its own waits in IMAP IDLE on the inbox and wakes the
poller when the server announces new mail, so a pass starts within moments of delivery.

IDLE is re-issued every RENEW_SECONDS (SPEC: at least every 10 minutes; servers may drop an IDLE
after 30). A dropped connection is reconnected with a growing pause (BACKOFF) and followed by a
full pass, since mail may have come meanwhile. A server without IDLE is said once; the interval
pass alone then finds new mail. The interval pass runs in any case, as a safety net.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from core.errors import MailboxError, TouchlogError
from core.settings import Settings
from poller.imap.login import open_mailbox
from poller.imap.session import Mailbox

log = logging.getLogger(__name__)

RENEW_SECONDS = 300.0
BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
# How often the wait looks up from IDLE to see whether touchlog is stopping.
TICK_SECONDS = 1.0
NEW_MAIL = (b"EXISTS", b"RECENT")


class IdleMailbox(Mailbox):
    """A Mailbox session that can wait in IDLE."""

    @property
    def has_idle(self) -> bool:
        return "IDLE" in self.capabilities

    def wait_for_mail(self, folder: str, seconds: float, stopping: threading.Event) -> bool:
        """One IDLE of at most `seconds` on `folder`: True as soon as the server announces new
        mail, False when the time is up or touchlog is stopping. A dead connection raises (and
        is left for close(): no DONE is sent on it)."""
        name = self._select(folder, readonly=True)
        with self._guard(f"idle on {name}"):
            self._client.idle()
            seen = self._responses(name, time.monotonic() + seconds, stopping)
            seen += self._client.idle_done()[1]
        return _new_mail(seen)

    def _responses(self, name: str, deadline: float, stopping: threading.Event) -> list:
        seen: list = []
        while not stopping.is_set() and not _new_mail(seen):
            wait = min(TICK_SECONDS, deadline - time.monotonic())
            if wait <= 0:
                break
            started = time.monotonic()
            responses = self._client.idle_check(timeout=wait)
            # imapclient swallows EOF: an empty answer well before the timeout is a socket the
            # server closed.
            if not responses and time.monotonic() - started < wait * 0.5:
                raise MailboxError(f"{self.where}: idle on {name}: connection closed by the "
                                   "server")
            seen += responses
        return seen


def _new_mail(responses: Sequence) -> bool:
    return any(len(r) > 1 and r[1] in NEW_MAIL for r in responses)


class Watcher:
    """The IDLE session, in a daemon thread: `wake(reason)` on new mail and after a reconnect."""

    def __init__(self, settings: Settings, wake: Callable[[str], None],
                 stopping: threading.Event, renew_seconds: float = RENEW_SECONDS,
                 backoff: Sequence[float] = BACKOFF) -> None:
        self.settings = settings
        self.wake = wake
        self.stopping = stopping
        self.renew_seconds = renew_seconds
        self.backoff = tuple(backoff)
        self.renewals = 0  # IDLE commands issued, for the tests and the log
        self.thread = threading.Thread(target=self._run, name="touchlog-idle", daemon=True)

    def start(self) -> Watcher:
        self.thread.start()
        return self

    def _run(self) -> None:
        failures = 0
        while not self.stopping.is_set():
            try:
                with open_mailbox(self.settings, IdleMailbox) as box:
                    if not box.has_idle:
                        log.warning("%s offers no IDLE: new mail is found by the pass every "
                                    "%ss", box.where, self.settings.schedule.interval_seconds)
                        return
                    if failures:
                        log.warning("%s: IDLE reconnected; a full pass follows", box.where)
                        self.wake("reconnected")
                    failures = 0
                    self._wait(box)
            except TouchlogError as exc:
                pause = self.backoff[min(failures, len(self.backoff) - 1)]
                failures += 1
                log.warning("IDLE: %s; reconnecting in %.0fs", exc, pause)
                self.stopping.wait(pause)
            except Exception:  # the interval pass still runs; never let the thread die silently
                log.exception("IDLE session failed")
                failures += 1
                self.stopping.wait(self.backoff[-1])

    def _wait(self, box: IdleMailbox) -> None:
        folder = self.settings.mailbox.folder
        while not self.stopping.is_set():
            self.renewals += 1
            if box.wait_for_mail(folder, self.renew_seconds, self.stopping):
                log.info("%s: new mail in %s", box.where, folder)
                self.wake("new mail")
