"""A message that breaks touchlog (SPEC 17): an unexpected error while deciding or writing it.

It stays in the inbox and is tried again on the next pass; after `mailbox.max_attempts` tries it
fails with `internal_error`: moved, raw bytes unchanged, to the failed folder, and one notice to
the team's admins. The pass always goes on with the other messages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from peewee import IntegrityError, InterfaceError, OperationalError

from core.message_ids import HeadersAlone, raw_digest, read_headers
from core.reasons import FAILED, INTERNAL_ERROR, keyword
from core.settings import Settings
from poller.decide.reading import Context, Source
from poller.decide.verdict import Outcome, RecordPlan
from poller.imap.wire import Fetched
from poller.mail.message import parse_message
from poller.notify import notices
from poller.notify.notice_text import compose, compose_internal_error
from poller.notify.recipients import MEMBER, UNVERIFIED
from poller.passes.commit import save_record, taken_by_another_worker
from store.db import database_error
from store.ledger import records as ledger
from store.ledger.models import MessageRecord
from store.models import TeamMember, database

log = logging.getLogger(__name__)


class Tally(Protocol):
    errors: list[str]

    def add(self, outcome: Outcome) -> None: ...

    def count_error(self) -> None: ...


class BrokenMessages:
    def __init__(self, settings: Settings, ctx: Context, now: Callable[[], datetime]) -> None:
        self.settings = settings
        self.ctx = ctx
        self.now = now

    def broke(self, fetched: Fetched, source: Source, exc: Exception,
              report: Tally) -> Outcome | None:
        """Count the try; the outcome once the tries are used up, else None (left in place)."""
        log.exception("message uid %s in %s could not be processed", fetched.uid, source.mailbox)
        headers = read_headers(fetched.raw)
        error = " ".join(f"{type(exc).__name__}: {exc}".split())[:500]
        limit = self.settings.mailbox.max_attempts
        try:
            key = _own_key(headers, fetched.raw)
            tries = ledger.note_broken(key, error, self.now())
            if tries < limit:
                report.count_error()
                report.errors.append(f"uid {fetched.uid}: {error} (try {tries} of {limit}; "
                                     "left in the inbox for the next pass)")
                return None
            outcome = self._give_up(fetched, headers, key, source, error, tries)
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

    def killed(self, fetched: Fetched, source: Source, kills: int, report: Tally) -> Outcome:
        """A message whose passes died with it alone in hand `kills` times (SPEC 20: the
        kernel's out-of-memory killer, SIGKILL), given up unread: `fetched` holds only its
        headers (poller.passes.hand). Given up before but not moved: only moved now."""
        error = "its pass was killed while reading it (out of memory, or SIGKILL)"
        headers = read_headers(fetched.raw)
        try:
            key, existing = ledger.place(headers.key, headers.sender, fetched.raw)
            if existing is not None and existing.uid == fetched.uid \
                    and existing.mailbox == source.mailbox:
                outcome = Outcome(key, existing.outcome, existing.reason, existing.detail,
                                  keyword=keyword(existing.reason or "")
                                  if existing.outcome == FAILED else None, recovered=True)
            else:
                outcome = self._give_up(fetched, headers, key, source, error, kills)
        except (OperationalError, InterfaceError) as db_exc:
            raise database_error(self.settings.database_url(), db_exc) from None
        report.add(outcome)
        if not outcome.recovered:
            report.errors.append(f"uid {fetched.uid}: {error}: failed as {INTERNAL_ERROR} "
                                 f"after {kills} tries")
        return outcome

    def _give_up(self, fetched: Fetched, headers: HeadersAlone, key: str, source: Source,
                 error: str, tries: int) -> Outcome:
        detail = f"touchlog broke on this message {tries} times; last: {error}"
        try:
            with database.atomic():
                existing = ledger.find_record(key)
                if existing is not None and existing.outcome != FAILED:
                    # Committed before (it broke while being moved, say): only move it.
                    ledger.forget_broken(key)
                    return Outcome(key, existing.outcome, existing.reason, existing.detail,
                                   recovered=True)
                plan = RecordPlan(key=key, message_id=headers.written_id or None, outcome=FAILED,
                                  reason=INTERNAL_ERROR, detail=detail, trace={},
                                  sender=headers.sender, subject=headers.subject, date=None,
                                  mailbox=source.mailbox, uid=source.uid, replaces=existing,
                                  raw_sha256=raw_digest(fetched.raw))
                record = save_record(plan, processed_at=self.now())
                ledger.forget_broken(key)
                self._tell_admins(record, headers, fetched.raw)
        except IntegrityError:
            return taken_by_another_worker(key)
        return Outcome(key, FAILED, INTERNAL_ERROR, detail, keyword=keyword(INTERNAL_ERROR))

    def _tell_admins(self, record: MessageRecord, headers: HeadersAlone, raw: bytes) -> None:
        """One notice to each admin (not the sender: the fault is touchlog's, not theirs).
        About a message whose sender is not an authenticated team member, the notice's
        subject is our own, its claims are quoted defanged, and it answers no Message-ID
        (SPEC 20)."""
        if not self.settings.notify.enabled:
            return
        if self._from_the_team(raw):
            subject, body = compose(INTERNAL_ERROR, record.detail, headers.subject,
                                    [headers.sender] if headers.sender else [], None)
            in_reply_to, kind = headers.written_id or None, MEMBER
        else:
            subject, body = compose_internal_error(record.detail, headers.sender,
                                                   headers.subject)
            in_reply_to, kind = None, UNVERIFIED
        for admin in TeamMember.select().where(TeamMember.role == "admin"):
            notices.queue_notice(record, admin.email, subject, body, in_reply_to, kind=kind)

    def _from_the_team(self, raw: bytes) -> bool:
        """An authenticated team member sent it; anything unclear (the very reading may be
        what broke) counts as not."""
        try:
            msg = parse_message(raw)
            return msg.sender is not None and self.ctx.is_member(msg.sender.email) and \
                self.ctx.authenticated(msg) is None
        except Exception:  # judged unverified: never a second break
            return False


def _own_key(headers: HeadersAlone, raw: bytes) -> str:
    """The key the ledger keeps this message under: its Message-ID's only when no other
    author's message holds it (store.ledger.records.place)."""
    return ledger.place(headers.key, headers.sender, raw)[0]
