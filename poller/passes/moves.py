"""Moving what a pass committed (SPEC 7): failed messages flagged with their reason's keyword,
then moved to the failed folder, logged and skipped ones to the logged folder, a set at a time.
Nothing is moved before its commit, and never by a pass that no longer holds the lock."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from core.reasons import FAILED
from core.sections import MailboxSettings
from poller.imap.session import Mailbox

if TYPE_CHECKING:
    from poller.decide.verdict import Outcome


def move_committed(box: Mailbox, mb: MailboxSettings, confirm: Callable[[], None],
                   outcomes: list[tuple[int, Outcome]]) -> None:
    """`confirm`: the pass's lock is still held (store.lock.PassLock.confirm), asked right
    before each command that changes the folder."""
    movable = [(uid, o) for uid, o in outcomes if o.movable]
    if not movable:
        return
    logged = [uid for uid, o in movable if o.outcome != FAILED]
    by_keyword: dict[str, list[int]] = {}
    for uid, o in movable:
        if o.outcome == FAILED and o.keyword:
            by_keyword.setdefault(o.keyword, []).append(uid)
    # A stalled worker whose lock went to another must not move what that one handles.
    confirm()
    # If the server fails here the batch is committed but not moved: the next pass
    # recognises every key and only moves the messages (counted as `recovered`).
    for keyword, uids in by_keyword.items():
        # Flag first: MOVE carries keywords along, and the failed folder is read by keyword.
        box.add_keyword(mb.folder, uids, keyword)
    failed = [uid for uids in by_keyword.values() for uid in uids]
    if failed:
        confirm()
        box.move(mb.folder, failed, mb.failed_folder)
    if logged:
        confirm()
        box.move(mb.folder, logged, mb.logged_folder)
