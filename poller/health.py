"""`touchlog check`: one line per part, each saying plainly whether it works."""

from __future__ import annotations

from collections.abc import Iterator

from poller.errors import TouchlogError
from poller.settings import Settings

Check = tuple[str, bool, str]


def run_checks(settings: Settings) -> Iterator[Check]:
    yield "settings", True, f"{settings.base_dir} loaded"
    yield from _imap(settings)
    yield _database(settings)
    yield _smtp(settings)


def _imap(settings: Settings) -> Iterator[Check]:
    from poller.mailbox import Mailbox

    mb = settings.mailbox
    try:
        with Mailbox.connect(mb, settings.imap_password()) as box:
            missing = box.missing_folders(mb.folder, mb.logged_folder, mb.failed_folder)
    except TouchlogError as exc:
        yield "imap", False, str(exc)
        yield "folders", False, "not checked: no IMAP session"
        return
    yield "imap", True, f"{mb.username}@{mb.host}:{mb.port} login ok ({mb.tls})"
    if mb.folder in missing:
        yield "folders", False, f"folder {mb.folder} is missing on {mb.host}"
    elif missing:
        yield "folders", True, (f"{mb.folder} ok; {', '.join(missing)} will be created on the "
                                "first poll")
    else:
        yield "folders", True, f"{mb.folder}, {mb.logged_folder}, {mb.failed_folder} exist"


def _database(settings: Settings) -> Check:
    from store.db import open_database
    from store.models import MessageRecord, Touchpoint

    try:
        open_database(settings.database_url())
        counts = f"{Touchpoint.select().count()} touchpoints, " \
                 f"{MessageRecord.select().count()} messages handled"
    except TouchlogError as exc:
        return "database", False, str(exc)
    except Exception as exc:  # a driver's own error class: still one line
        return "database", False, f"database: {exc}".strip()
    return "database", True, counts


def _smtp(settings: Settings) -> Check:
    from poller import notices

    if not settings.notify.enabled:
        return "smtp", True, "notices are off (notify.enabled = false)"
    try:
        return "smtp", True, notices.check_smtp(settings)
    except TouchlogError as exc:
        return "smtp", False, str(exc)
