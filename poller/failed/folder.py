"""The failed folder as the person running touchlog sees it: list, show, retry.

The mailbox is the truth of what is waiting (a message someone dragged back by hand is no longer
a failure); the database adds the detail and the trace.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.addresses import normalize
from core.errors import NotFound
from core.message_ids import read_headers
from core.reasons import KEYWORD_PREFIX
from core.settings import Settings
from core.utc import iso_utc, naive_utc
from poller.imap.login import open_mailbox
from poller.imap.session import Mailbox
from poller.imap.wire import FolderEntry
from store.ledger import records as ledger
from store.ledger.models import MessageRecord

# IMAP UIDs are 32-bit (RFC 3501's nz-number): a larger id names no message, and asking the
# server for one is an error of the command, not "no such message".
MAX_UID = 2**32 - 1


def imap_uids(uids: Sequence[int]) -> list[int]:
    """The ids of `uids` that can be UIDs at all."""
    return [uid for uid in uids if 1 <= uid <= MAX_UID]


@dataclass(frozen=True)
class Failure:
    uid: int
    message_id: str
    date: datetime | None
    sender: str
    subject: str
    reason: str
    detail: str
    record: MessageRecord | None
    # (account_id, name): the accounts the rules saw, best first (poller.failed.suggest).
    suggestions: tuple[tuple[str, str], ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"uid": self.uid, "message_id": self.message_id or None,
                "date": iso_utc(self.date), "sender": self.sender, "subject": self.subject,
                "reason": self.reason, "detail": self.detail,
                "suggestions": [{"account_id": acc, "name": name}
                                for acc, name in self.suggestions]}


def reason_from_flags(flags: Sequence[str]) -> str:
    for flag in flags:
        if flag.lower().startswith(KEYWORD_PREFIX):
            return flag[len(KEYWORD_PREFIX):]
    return ""


def list_failures(settings: Settings) -> list[Failure]:
    with open_mailbox(settings) as box:
        box.ensure_folders(settings.mailbox.failed_folder)
        return failures_in(box, settings.mailbox.failed_folder)


def failures_in(box: Mailbox, failed: str, only: Sequence[int] | None = None) -> list[Failure]:
    """The failed folder's messages (or `only` these UIDs), each with its ledger record; the
    caller has made sure the folder exists (one LIST and SUBSCRIBE a page view, not two)."""
    entries = box.list_entries(failed, None if only is None else imap_uids(only))
    by_id = ledger.records_by_message_id(e.message_id for e in entries)
    shared = Counter(e.message_id for e in entries)
    if only is not None:  # a twin outside the window is not in `shared`: the ledger knows it
        reused = ledger.reused_message_ids(by_id.values())
        shared.update(mid for mid, r in by_id.items() if r.message_id in reused)
    records = {}
    for e in entries:
        record = by_id.get(e.message_id)
        # Another author's message, or one of several with this Message-ID, is recorded
        # under its own bytes (store.ledger.records.place): read them to find which.
        if record is None or shared[e.message_id] > 1 or \
                normalize(record.sender or "") != normalize(e.sender):
            record = _record_by_bytes(box, failed, e.uid)
        records[e.uid] = record
    return [_failure(e, records[e.uid]) for e in entries]


def _record_by_bytes(box: Mailbox, folder: str, uid: int) -> MessageRecord | None:
    """A message without a Message-ID, one that could not be read (parse_error), or one that
    shares its Message-ID with another author's, is found by its bytes."""
    raw = box.fetch_raw(folder, uid)
    if not raw:
        return None
    headers = read_headers(raw)  # the headers alone: the ledger's key and the From
    return ledger.place(headers.key, headers.sender, raw)[1]


def _failure(entry: FolderEntry, record: MessageRecord | None) -> Failure:
    reason = reason_from_flags(entry.flags) or (record.reason if record else "") or "unknown"
    date = naive_utc(entry.date)
    # The ledger keeps the Message-ID as the mail wrote it; the envelope's is normalized.
    message_id = record.message_id if record is not None and record.message_id else \
        entry.message_id
    return Failure(uid=entry.uid, message_id=message_id, date=date, sender=entry.sender,
                   subject=entry.subject, reason=reason,
                   detail=record.detail if record else "", record=record)


def find_failure(settings: Settings, uid: int) -> Failure:
    failed = settings.mailbox.failed_folder
    with open_mailbox(settings) as box:
        box.ensure_folders(failed)
        for failure in failures_in(box, failed, [uid]):
            return failure
        raise NotFound(f"no message with UID {uid} in {box.folder_label(failed)}")


def retry(settings: Settings, uids: Sequence[int] | None) -> list[int]:
    """Move failed messages back to the inbox (all when `uids` is None), keywords removed, so
    the next pass processes them afresh; returns the UIDs moved."""
    mb = settings.mailbox
    with open_mailbox(settings) as box:
        box.ensure_folders(mb.failed_folder)
        # Only the messages asked for: a folder of 10,000 takes seconds to list whole.
        asked = None if uids is None else imap_uids(uids)
        entries = {e.uid: e for e in box.list_entries(mb.failed_folder, asked)}
        wanted = sorted(entries) if uids is None else list(uids)
        unknown = [uid for uid in wanted if uid not in entries]
        if unknown:
            raise NotFound(f"no message with UID {', '.join(map(str, unknown))} "
                                f"in {box.folder_label(mb.failed_folder)}")
        keywords = {f for uid in wanted for f in entries[uid].flags
                    if f.lower().startswith(KEYWORD_PREFIX)}
        if wanted and keywords:
            box.remove_keywords(mb.failed_folder, wanted, sorted(keywords))
        if wanted:
            box.move(mb.failed_folder, wanted, mb.folder)
    return wanted
