"""A message that breaks touchlog (SPEC 17): an unexpected error while deciding or writing it.

It stays in the inbox and is tried again on the next pass; after `mailbox.max_attempts` tries it
fails with `internal_error`: moved, raw bytes unchanged, to the failed folder, and one notice to
the team's admins. The pass always goes on with the other messages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from email.parser import BytesHeaderParser
from email.utils import parseaddr
from typing import Protocol

from peewee import IntegrityError, InterfaceError, OperationalError

from core.message_ids import key_of, normalize_message_id, printable
from core.reasons import FAILED, INTERNAL_ERROR, keyword
from core.settings import Settings
from poller.decide.reading import Context, Source
from poller.decide.verdict import Outcome
from poller.imap.wire import Fetched
from poller.notify import notices
from poller.notify.notice_text import compose
from store.db import database_error
from store.ledger import records as ledger
from store.ledger.models import MessageRecord
from store.models import TeamMember, database

log = logging.getLogger(__name__)


class Tally(Protocol):
    errors: list[str]

    def add(self, outcome: Outcome) -> None: ...

    def count_error(self) -> None: ...


class Trouble:
    def __init__(self, settings: Settings, ctx: Context, now: Callable[[], datetime]) -> None:
        self.settings = settings
        self.ctx = ctx
        self.now = now

    def broke(self, fetched: Fetched, source: Source, exc: Exception,
              report: Tally) -> Outcome | None:
        """Count the try; the outcome once the tries are used up, else None (left in place)."""
        log.exception("message uid %s in %s could not be processed", fetched.uid, source.mailbox)
        key = key_of(fetched.raw)
        error = " ".join(f"{type(exc).__name__}: {exc}".split())[:500]
        limit = self.settings.mailbox.max_attempts
        try:
            tries = ledger.note_broken(key, error, self.now())
            if tries < limit:
                report.count_error()
                report.errors.append(f"uid {fetched.uid}: {error} (try {tries} of {limit}; "
                                     "left in the inbox for the next pass)")
                return None
            outcome = self._give_up(fetched, source, key, error, tries)
        except (OperationalError, InterfaceError) as db_exc:
            raise database_error(self.settings.database_url(), db_exc) from None
        except Exception:  # writing the failure broke too: the message stays where it is
            log.exception("message uid %s: recording internal_error failed", fetched.uid)
            report.count_error()
            report.errors.append(f"uid {fetched.uid}: {error} (could not be recorded as "
                                 "internal_error; left in the inbox)")
            return None
        report.add(outcome)
        report.errors.append(f"uid {fetched.uid}: {error}: failed as {INTERNAL_ERROR} after "
                             f"{tries} tries")
        return outcome

    def killed(self, fetched: Fetched, source: Source, kills: int,
               report: Tally) -> Outcome:
        """A message whose passes died with it alone in hand `kills` times (SPEC 20: the
        kernel's out-of-memory killer, SIGKILL), given up unread: `fetched` holds its headers."""
        error = "its pass was killed while reading it (out of memory, or SIGKILL)"
        try:
            outcome = self._give_up(fetched, source, key_of(fetched.raw), error, kills)
        except (OperationalError, InterfaceError) as db_exc:
            raise database_error(self.settings.database_url(), db_exc) from None
        report.add(outcome)
        report.errors.append(f"uid {fetched.uid}: {error}: failed as {INTERNAL_ERROR} after "
                             f"{kills} tries")
        return outcome

    def _give_up(self, fetched: Fetched, source: Source, key: str, error: str,
                 tries: int) -> Outcome:
        detail = f"touchlog broke on this message {tries} times; last: {error}"
        headers = _headers(fetched.raw)
        try:
            with database.atomic():
                existing = ledger.find_record(key)
                if existing is not None and existing.outcome != FAILED:
                    # Committed before (it broke while being moved, say): only move it.
                    ledger.forget_broken(key)
                    return Outcome(key, existing.outcome, existing.reason, existing.detail,
                                   recovered=True)
                record = ledger.save_record(
                    existing, key=key, message_id=headers["message_id"] or None,
                    outcome=FAILED, reason=INTERNAL_ERROR, detail=detail, trace={},
                    touchpoint=None, sender=headers["sender"], subject=headers["subject"],
                    date=None, mailbox=source.mailbox, uid=source.uid,
                    processed_at=self.now())
                ledger.forget_broken(key)
                self._tell_admins(record, headers)
        except IntegrityError:
            return Outcome(key, "skipped", "duplicate", "committed by another worker",
                           movable=False)
        return Outcome(key, FAILED, INTERNAL_ERROR, detail, keyword=keyword(INTERNAL_ERROR))

    def _tell_admins(self, record: MessageRecord, headers: dict[str, str]) -> None:
        """One notice to each admin (not the sender: the fault is touchlog's, not theirs)."""
        if not self.settings.notify.enabled:
            return
        subject, body = compose(INTERNAL_ERROR, record.detail, headers["subject"],
                                [headers["sender"]] if headers["sender"] else [], None)
        for admin in TeamMember.select().where(TeamMember.role == "admin"):
            notices.queue_notice(record, admin.email, subject, body,
                                 headers["message_id"] or None)


def _headers(raw: bytes) -> dict[str, str]:
    try:
        parsed = BytesHeaderParser().parsebytes(raw)
        return {"sender": printable(parseaddr(str(parsed.get("From", "") or ""))[1]),
                "subject": printable(" ".join(str(parsed.get("Subject", "") or "").split())),
                "message_id": printable(normalize_message_id(
                    str(parsed.get("Message-ID", "") or "")))}
    except Exception:  # the bytes are beyond a header read; the record still keeps the key
        return {"sender": "", "subject": "", "message_id": ""}
