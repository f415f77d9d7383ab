"""A signed-in IMAP session kept between the web's page views of the review queue.

Signing in (TCP, TLS in production, LOGIN or XOAUTH2, CAPABILITY) costs about as much as reading
a page of the failed folder (bench/bench_review.py), and the review queue is read on every page
view. So each process keeps one idle session per mailbox: a request takes it (or signs in afresh
while another request holds it) and gives it back when done. What keeps this safe:

- a session is used by one request at a time: it is taken out under the lock, never shared;
- one that met any error is closed, never given back;
- one idle for more than IDLE_SECONDS is closed rather than used (servers end idle sessions after
  30 minutes at the earliest, RFC 3501), and one taken from the shelf is asked a LIST first: if
  the server ended it anyway (a restart), a fresh one is signed in, and the page never sees it;
- a process made by fork does not use its parent's sessions (their sockets are the parent's).

The mailbox stays the truth: every use selects its folder afresh; nothing read is kept.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from core.errors import MailboxError
from core.settings import Settings
from poller.imap.login import open_mailbox
from poller.imap.session import Mailbox

IDLE_SECONDS = 60.0

_lock = threading.Lock()
# (host, port, username, tls, auth) -> (the idle session, since when, the process that made it)
_shelf: dict[tuple[str, int, str, str, str], tuple[Mailbox, float, int]] = {}


@contextmanager
def reused_mailbox(settings: Settings) -> Iterator[Mailbox]:
    """A signed-in session of `settings`' mailbox, kept for the next caller when done."""
    mb = settings.mailbox
    key = (mb.host, mb.port, mb.username, mb.tls, mb.auth)
    box = _take(key) or open_mailbox(settings)
    try:
        yield box
    except BaseException:
        box.close()
        raise
    with _lock:
        if key not in _shelf:
            _shelf[key] = (box, time.monotonic(), os.getpid())
            return
    box.close()


def _take(key: tuple[str, int, str, str, str]) -> Mailbox | None:
    with _lock:
        found = _shelf.pop(key, None)
    if found is None:
        return None
    box, since, pid = found
    if pid != os.getpid():
        return None  # the parent's socket: leave it to the parent
    if time.monotonic() - since > IDLE_SECONDS:
        box.close()
        return None
    try:
        box.missing_folders()  # a round trip: is the session still there?
    except MailboxError:
        with suppress(Exception):
            box.close()
        return None
    return box


def forget() -> None:
    """Close every kept session (a test's end, or settings that changed)."""
    with _lock:
        kept = list(_shelf.values())
        _shelf.clear()
    for box, _, pid in kept:
        if pid == os.getpid():
            box.close()
