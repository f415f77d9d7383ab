"""The end of a pass: the pending notices sent, the run recorded. A database that refuses either
(a full disk, a lost server) is said in one line and ends the pass with exit status 1, never a
traceback (SPEC 20); the next pass closes a run it could not record as `killed`."""

from __future__ import annotations

import logging
from datetime import datetime

from peewee import InterfaceError, OperationalError

from core.errors import DatabaseError
from core.settings import Settings
from poller.notify import notices
from poller.passes.report import PollReport
from store.db import database_error
from store.ledger import records as ledger
from store.ledger.models import Run

log = logging.getLogger(__name__)


def end_pass(settings: Settings, report: PollReport, run: Run, status: str,
             now: datetime) -> DatabaseError | None:
    """Notices, then the run's row; the database's refusal, if it refused."""
    refused = None
    if settings.notify.enabled and status != "stopped":
        report.notices, refused = _send_notices(settings, report, now)
    try:
        ledger.finish_run(run, report.run_counts(), report.errors, status, now)
    except (OperationalError, InterfaceError) as exc:
        refused = refused or _said(settings, report, exc, "record the run")
    return refused


def _send_notices(settings: Settings, report: PollReport, now: datetime
                  ) -> tuple[notices.NoticeReport | None, DatabaseError | None]:
    try:
        sent = notices.send_pending(settings, now=now)
    except (OperationalError, InterfaceError) as exc:
        return None, _said(settings, report, exc, "record notices")
    except Exception as exc:  # notices never block or lose a message
        log.exception("sending notices failed")
        report.errors.append(f"notices: {exc}")
        return None, None
    if sent.failed:
        # The messages are handled; say why their senders have not been told yet.
        report.errors.append(f"notices: {sent.pending} pending, not sent: {sent.error}")
    report.errors.extend(sent.gave_up)
    return sent, None


def _said(settings: Settings, report: PollReport, exc: Exception, doing: str) -> DatabaseError:
    error = database_error(settings.database_url(), exc, doing)
    log.info("%s", error)
    if str(error) not in report.errors:
        report.errors.append(str(error))
    return error
