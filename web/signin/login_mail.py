"""The sign-in mail (SPEC 21): the one-time link, sent over the [notify] SMTP settings by the
same code as failure notices (poller.notify.smtp).

Sent from a thread of its own, after the page has answered: the answer to `POST /login/email`
then takes as long for a stranger's address as for a member's, so its timing does not tell who
is on the team either. A mail that cannot be sent is logged; the member asks again.
"""

from __future__ import annotations

import logging
import smtplib
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from core.addresses import domain_of
from core.errors import NoticeError
from core.settings import Settings
from poller.notify.smtp import close_smtp, open_smtp, smtp_refusal
from store.access.links import LINK_LIFETIME

log = logging.getLogger(__name__)


def link_mail(settings: Settings, to: str, url: str, client: str, now: datetime) -> EmailMessage:
    notify = settings.notify
    minutes = int(LINK_LIFETIME.total_seconds() // 60)
    msg = EmailMessage()
    msg["From"] = notify.from_address
    msg["To"] = to
    msg["Subject"] = "Your touchlog sign-in link"
    msg["Date"] = format_datetime(now.replace(tzinfo=UTC))
    msg["Message-ID"] = make_msgid(idstring="tl-signin",
                                   domain=domain_of(notify.from_address) or "touchlog")
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(
        f"To sign in to touchlog, open this link and press \"Sign in\":\n\n{url}\n\n"
        f"It works once, for {minutes} minutes. It was asked for from {client or 'unknown'} "
        f"at {now:%Y-%m-%d %H:%M} UTC.\n\nIf you did not ask for it, ignore this mail: "
        "nobody can sign in without opening the link.\n")
    return msg


def send_now(settings: Settings, msg: EmailMessage) -> bool:
    """One message over SMTP; False (and a log line naming the step) when it did not go."""
    try:
        smtp = open_smtp(settings)
    except NoticeError as exc:
        log.error("sign-in link to %s not sent: %s", msg["To"], exc)
        return False
    try:
        smtp.send_message(msg)
        return True
    except smtplib.SMTPException as exc:
        log.error("sign-in link to %s not sent: %s", msg["To"], smtp_refusal(exc))
        return False
    finally:
        close_smtp(smtp)


class Mailer:
    """Sends sign-in mails one after another from one thread, made on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def send(self, msg: EmailMessage) -> Future[bool]:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1,
                                                thread_name_prefix="touchlog-mail")
            return self._pool.submit(send_now, self.settings, msg)

    def drain(self) -> None:
        """Wait until every mail handed over so far has been sent or given up on."""
        if self._pool is not None:
            self._pool.submit(lambda: None).result()

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None
