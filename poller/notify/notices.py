"""Failure notices (SPEC section 8): who gets one, what it says, and sending the queue over SMTP.

A notice is queued as a `Notice` row in the same transaction as the failed outcome, so it is never
lost; `send_pending` delivers the queue later and never raises for SMTP trouble: a notice that
cannot be sent stays pending and is tried again on the next pass.

`notify.enabled = false`: the pipeline queues nothing, and `send_pending` sends nothing and leaves
any notice already queued pending (not suppressed), so turning notices back on delivers them.

A pending notice whose message has been logged or skipped since (`failures retry` after a fix), or
that a newer notice about the same message replaces, is `withdrawn`, never sent: it would be wrong.
One whose recipient may no longer have it (poller.notify.recipients) is `cancelled`, never sent.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from peewee import ModelSelect

from core.addresses import domain_of
from core.errors import ConfigError, NoticeError

# Filters skip mail carrying the header or replying to a notice's Message-ID, so a notice that
# comes back to the mailbox is never processed: no mail loop.
from core.own_mail import NOTICE_HEADER, NOTICE_ID_PREFIX
from core.reasons import FAILED
from core.sections import NotifySettings
from core.settings import Settings
from core.utc import iso_utc, naive_utc, utcnow
from poller.notify.recipients import KINDS, Recheck, sent_last_hour
from store.ledger.models import MessageRecord, Notice

if TYPE_CHECKING:  # smtplib and email only when a notice is sent: an empty pass needs neither
    import smtplib
    from email.message import EmailMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NoticeReport:
    """What one round of sending the queued notices did, for the pass's summary and `runs`."""

    sent: int = 0
    suppressed: int = 0  # over the recipient's hourly limit: never sent
    failed: int = 0  # send attempts that failed in this pass (those notices stay pending)
    pending: int = 0  # notices still pending after the pass
    withdrawn: int = 0  # no longer true: the message was logged since, or failed again
    cancelled: int = 0  # the recipient may no longer have it (no longer on the team)
    # Refused permanently (5xx) `notify.max_attempts` times: marked failed, never tried again.
    undeliverable: int = 0
    gave_up: tuple[str, ...] = field(default=(), compare=False)  # one line each, for `runs`
    # Why the last failed attempt failed (one line, names the server), for the pass's report.
    error: str = field(default="", compare=False)


# --- queueing -------------------------------------------------------------------------------


def queue_notice(record: MessageRecord, to_address: str, subject: str, body: str,
                 in_reply_to: str | None, *, kind: str, now: datetime | None = None) -> Notice:
    """Queue a notice; the caller's transaction makes it commit with the failed outcome.
    `kind`: why its recipient was chosen (poller.notify.recipients)."""
    assert kind in KINDS, kind
    return Notice.create(record=record, to_address=to_address.strip(), subject=subject,
                         body=body, in_reply_to=in_reply_to or None, kind=kind,
                         created_at=naive_utc(now) if now is not None else utcnow())


def states(record: MessageRecord) -> list[dict[str, object]]:
    """What became of each notice about this message, oldest first (`failures show`)."""
    return [{"to": n.to_address, "status": n.status, "attempts": n.attempts,
             "last_error": n.last_error or None, "sent_at": iso_utc(n.sent_at)}
            for n in Notice.select().where(Notice.record == record.id).order_by(Notice.id)]


def state_text(state: dict[str, object]) -> str:
    """`failed after 5 tries: refused: 550 no such user`, `sent 2026-11-02T09:00:00Z`, ..."""
    status, tries = state["status"], state["attempts"]
    if status == "sent":
        return f"sent {state['sent_at']}"
    if status == "failed":
        return f"failed after {tries} tries: {state['last_error']}"
    if status == "pending" and state["last_error"]:
        return f"pending, {tries} tries so far: {state['last_error']}"
    if status == "cancelled":
        return f"cancelled: {state['last_error']}"
    return str(status)


# --- sending --------------------------------------------------------------------------------


def send_pending(settings: Settings, now: datetime | None = None) -> NoticeReport:
    """Send every pending notice, oldest first, within the per-sender hourly limit."""
    if not settings.notify.enabled:
        return NoticeReport(pending=_pending_query().count())
    now = naive_utc(now) if now is not None else utcnow()
    batch = _Batch(settings, now)
    try:
        # Read the queue first: rows are updated one by one while we go.
        for notice in list(_pending_query().order_by(Notice.id)):
            batch.handle(notice)
    finally:
        batch.close()
    return NoticeReport(sent=batch.sent, suppressed=batch.suppressed, failed=batch.failed,
                        pending=_pending_query().count(), withdrawn=batch.withdrawn,
                        cancelled=batch.cancelled,
                        undeliverable=len(batch.gave_up), gave_up=tuple(batch.gave_up),
                        error=batch.error)


class _Batch:
    """One pass over the queue with at most one SMTP connection, opened only when needed."""

    def __init__(self, settings: Settings, now: datetime) -> None:
        self.settings, self.now = settings, now
        self.smtp: smtplib.SMTP | None = None
        self.down = ""  # why the server is unreachable; once set, nothing more is tried
        self.sent = self.suppressed = self.failed = self.withdrawn = self.cancelled = 0
        self.error = ""  # the last send error
        self.gave_up: list[str] = []
        self.recheck = Recheck(settings)

    def handle(self, notice: Notice) -> None:
        if _obsolete(notice):
            _mark(notice, "withdrawn")
            self.withdrawn += 1
            log.info("notice %s to %s withdrawn: its message was handled again",
                     notice.id, notice.to_address)
            return
        why_not = self.recheck.why_not(notice)
        if why_not:
            _mark(notice, "cancelled", error=why_not)
            self.cancelled += 1
            log.info("notice %s cancelled: %s", notice.id, why_not)
            return
        limit = self.settings.notify.max_per_sender_per_hour
        if sent_last_hour(notice, self.now) >= limit:
            _mark(notice, "suppressed")
            self.suppressed += 1
            log.info("notice %s to %s suppressed: hourly limit", notice.id, notice.to_address)
            return
        error, permanent = (self.down, False) if self.down else self._send(notice)
        tries = self.settings.notify.max_attempts
        if error and permanent and notice.attempts + 1 >= tries:
            _mark(notice, "failed", error=error)
            self.gave_up.append(f"notice {notice.id} to {notice.to_address} failed after "
                                f"{notice.attempts} tries: {error}")
            log.warning("%s", self.gave_up[-1])
        elif error:
            _mark(notice, "pending", error=error)
            self.failed += 1
            self.error = error
            log.warning("notice %s to %s not sent: %s", notice.id, notice.to_address, error)
        else:
            # Committed at once, before the next one is sent: a kill after the server's OK
            # resends at most this one notice, under the same Message-ID (build_message).
            _mark(notice, "sent", sent_at=self.now)
            self.sent += 1
            log.info("notice %s sent to %s", notice.id, notice.to_address)

    def _send(self, notice: Notice) -> tuple[str, bool]:
        """('', False) when the server took the notice, else why not and whether the refusal
        is permanent (5xx); the connection is given up when the failure is not this notice's."""
        import smtplib

        from poller.notify.smtp import one_line, open_smtp, smtp_text, where

        try:
            if self.smtp is None:
                self.smtp = open_smtp(self.settings)
            self.smtp.send_message(build_message(notice, self.settings.notify, self.now))
            return "", False
        except (NoticeError, ConfigError) as exc:  # no password is as bad as no server
            self.down = str(exc)
            return self.down, False
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused,
                smtplib.SMTPDataError, smtplib.SMTPNotSupportedError) as exc:
            if self.smtp is not None and self.smtp.sock is None:
                self.smtp = None  # the server hung up after a 421: reconnect for the next one
            return one_line(f"refused: {smtp_text(exc)}"), _permanent(exc)
        except (smtplib.SMTPException, OSError) as exc:
            # The connection dropped mid-pass: the rest would fail the same way.
            self.down = one_line(f"smtp {where(self.settings.notify)}: connection lost: {exc}")
            if self.smtp is not None:
                self.smtp.close()
            self.smtp = None
            return self.down, False

    def close(self) -> None:
        if self.smtp is not None:
            from poller.notify.smtp import close_smtp

            close_smtp(self.smtp)


def build_message(notice: Notice, notify: NotifySettings, now: datetime) -> EmailMessage:
    """The notice as mail: plain text, marked as an auto-reply in the original's thread."""
    from email.message import EmailMessage
    from email.utils import format_datetime, formataddr

    msg = EmailMessage()
    msg["From"] = formataddr(("touchlog", notify.from_address))
    msg["To"] = notice.to_address
    msg["Subject"] = notice.subject
    msg["Date"] = format_datetime(now.replace(tzinfo=UTC))
    msg["Message-ID"] = _notice_message_id(notice, notify.from_address)
    if notice.in_reply_to:
        original = "<" + notice.in_reply_to.strip().strip("<>") + ">"
        msg["In-Reply-To"] = original
        msg["References"] = original
    # RFC 3834 marks, so vacation responders and the like do not answer the notice.
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-Auto-Response-Suppress"] = "All"
    msg[NOTICE_HEADER] = "1"
    msg.set_content(notice.body)
    return msg


# --- helpers --------------------------------------------------------------------------------


def _pending_query() -> ModelSelect[Notice]:
    return Notice.select().where(Notice.status == "pending")


def _obsolete(notice: Notice) -> bool:
    """The message is no longer failed (retried and logged or skipped), or failed again and a
    newer notice says so."""
    record = MessageRecord.get_or_none(MessageRecord.id == notice.record_id)
    if record is None or record.outcome != FAILED:
        return True
    return Notice.select().where(Notice.record == notice.record_id,
                                 Notice.id > notice.id).exists()


def _permanent(exc: smtplib.SMTPException) -> bool:
    """A 5xx answer: the server will say the same next time (a 4xx may pass later)."""
    codes = [code for code, _ in getattr(exc, "recipients", {}).values()] or [
        getattr(exc, "smtp_code", 0)]
    return bool(codes) and all(isinstance(c, int) and 500 <= c < 600 for c in codes)


def _mark(notice: Notice, status: str, error: str = "", sent_at: datetime | None = None) -> None:
    notice.status = status
    if status in ("pending", "sent", "failed"):
        notice.attempts += 1
        notice.last_error = error
    elif status == "cancelled":
        notice.last_error = error
    notice.sent_at = sent_at
    notice.save()


def _notice_message_id(notice: Notice, from_address: str) -> str:
    # Stable per notice: if a crash comes between the server's OK and our commit, the resent
    # copy has the same Message-ID and mail clients show it once.
    token = hashlib.sha256(f"{notice.record_id}:{notice.created_at}".encode()).hexdigest()[:12]
    return f"<{NOTICE_ID_PREFIX}{notice.id}.{token}@{domain_of(from_address) or 'touchlog'}>"
