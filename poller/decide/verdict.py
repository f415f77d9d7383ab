"""What `decide` hands `commit`: one of four typed values, each holding everything to be stored.

- `Logged`: the record, the touchpoint and the attachment files to write.
- `Skipped`: the record.
- `Failed`: the record and, when its sender is to be told, the notice.
- `Replay`: the ledger already holds the outcome (a duplicate, or a crash came between commit
  and move); nothing is written, the message is only moved.

`commit` writes exactly these and assumes nothing else; `process --dry-run` prints them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from core.reasons import FAILED, keyword
from poller.decide.resolve import Decision
from poller.mail.message import Message
from poller.understand.participants import Understanding
from store.ledger.models import MessageRecord
from store.timeline.touchpoints import NewTouchpoint


@dataclass(frozen=True)
class RecordPlan:
    """The ledger row for the message key (store.ledger.models.MessageRecord), minus the touchpoint
    it points at, which only exists once written."""

    key: str
    message_id: str | None
    outcome: str
    reason: str | None  # the deciding rule, the skip reason or the failure reason code
    detail: str
    trace: dict[str, Any]
    sender: str
    subject: str
    date: datetime | None  # naive UTC
    mailbox: str
    uid: int | None
    raw_sha256: str | None = None
    # A failed record of the same key being processed afresh (`failures retry`): overwritten.
    replaces: MessageRecord | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class NoticePlan:
    to_address: str
    subject: str
    body: str
    in_reply_to: str | None
    kind: str  # why the recipient was chosen: poller.notify.recipients


@dataclass(frozen=True)
class FileToKeep:
    """An attachment's bytes, stored once under their hash before the transaction."""

    filename: str
    sha256: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class _Verdict:
    record: RecordPlan

    @property
    def key(self) -> str:
        return self.record.key

    @property
    def outcome(self) -> str:
        return self.record.outcome

    @property
    def reason(self) -> str | None:
        return self.record.reason

    @property
    def detail(self) -> str:
        return self.record.detail

    @property
    def trace(self) -> dict[str, Any]:
        return self.record.trace

    @property
    def sender(self) -> str:
        return self.record.sender

    @property
    def subject(self) -> str:
        return self.record.subject

    @property
    def keyword(self) -> str | None:
        """The IMAP keyword the message carries in the failed folder; None when logged."""
        return keyword(self.reason or "") if self.outcome == FAILED else None


@dataclass(frozen=True)
class Logged(_Verdict):
    touchpoint: NewTouchpoint
    files: tuple[FileToKeep, ...]
    attachments_dir: Path
    understanding: Understanding
    decision: Decision
    message: Message = field(repr=False)  # the parsed message it was made from


@dataclass(frozen=True)
class Skipped(_Verdict):
    understanding: None = None
    decision: None = None


@dataclass(frozen=True)
class Failed(_Verdict):
    notice: NoticePlan | None  # None: nobody is told (an outside sender, notices off, a file)
    # How far deciding got, for `process` and the tests; commit does not read them.
    understanding: Understanding | None = None
    decision: Decision | None = None


@dataclass(frozen=True)
class Replay(_Verdict):
    """Already in the ledger: `record` says what it holds, and is not written again."""

    understanding: None = None
    decision: None = None
    # This very message (same folder and UID), committed by an earlier pass that could not
    # move it: counted `recovered`, not as a duplicate.
    recovered: bool = False


Verdict = Logged | Skipped | Failed | Replay


@dataclass(frozen=True)
class Outcome:
    """What `commit` did, for the pass's report and the move."""

    key: str
    outcome: str
    reason: str | None
    detail: str = ""
    touchpoint_id: int | None = None
    keyword: str | None = None
    # False when another worker committed the key first: the message is left for it to move.
    movable: bool = True
    recovered: bool = False  # committed by an earlier pass that could not move it
