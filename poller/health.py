"""`touchlog check`: one line per part, each saying plainly whether it works."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from poller.errors import TouchlogError
from poller.settings import Settings


class Check(NamedTuple):
    name: str
    status: str  # "ok" | "warn" (works, but not as it should in production) | "FAIL"
    text: str


def run_checks(settings: Settings) -> Iterator[Check]:
    where = settings.path or settings.base_dir
    yield Check("settings", "ok", f"{where} loaded")
    yield from _imap(settings)
    yield _database(settings)
    yield _smtp(settings)


def _unverified(tls: str, verify: bool, key: str) -> str:
    """The warning for TLS without certificate checks: anyone on the path can read along."""
    if tls == "none" or verify:
        return ""
    return f"; WARNING: the server's certificate is not checked ({key} = false)"


def _imap(settings: Settings) -> Iterator[Check]:
    from poller.signin import open_mailbox

    mb = settings.mailbox
    try:
        with open_mailbox(settings) as box:
            missing = box.missing_folders(mb.folder, mb.logged_folder, mb.failed_folder)
            labels = {name: box.folder_label(name)
                      for name in (mb.folder, mb.logged_folder, mb.failed_folder)}
            signed_in = box.signed_in
    except TouchlogError as exc:
        yield Check("imap", "FAIL", str(exc))
        yield Check("folders", "FAIL", "not checked: no IMAP session")
        return
    warning = _unverified(mb.tls, mb.verify_tls, "mailbox.verify_tls")
    yield Check("imap", "warn" if warning else "ok",
                f"{mb.username}@{mb.host}:{mb.port} login ok ({mb.tls}), {signed_in}{warning}")
    yield _folders(settings, missing, labels)


def _folders(settings: Settings, missing: list[str], labels: dict[str, str]) -> Check:
    mb = settings.mailbox
    if mb.folder in missing:
        return Check("folders", "FAIL", f"folder {labels[mb.folder]} is missing on {mb.host}")
    if missing:
        return Check("folders", "ok", f"{labels[mb.folder]} ok; "
                     f"{', '.join(labels[n] for n in missing)} will be created on the first poll")
    return Check("folders", "ok", ", ".join(labels.values()) + " exist")


def _database(settings: Settings) -> Check:
    from store.db import open_database
    from store.models import MessageRecord, Touchpoint

    try:
        open_database(settings.database_url(), key_file=settings.encryption_key_path())
        counts = f"{Touchpoint.select().count()} touchpoints, " \
                 f"{MessageRecord.select().count()} messages handled"
    except TouchlogError as exc:
        return Check("database", "FAIL", str(exc))
    except Exception as exc:  # a driver's own error class: still one line
        return Check("database", "FAIL", f"database: {exc}".strip())
    return Check("database", "ok", counts + _encryption())


def _encryption() -> str:
    from store.sealed import SEALING

    ring = SEALING.ring
    if ring is None:
        return "; encryption at rest off (database.encryption_key_file)"
    return (f"; encrypted at rest with key {ring.current_id} "
            f"({len(ring.keys)} key(s) in {ring.path})")


def _smtp(settings: Settings) -> Check:
    from poller import notices

    notify = settings.notify
    if not notify.enabled:
        return Check("smtp", "ok", "notices are off (notify.enabled = false)")
    try:
        text = notices.check_smtp(settings)
    except TouchlogError as exc:
        return Check("smtp", "FAIL", str(exc))
    warning = _unverified(notify.smtp_tls, notify.verify_tls, "notify.verify_tls")
    return Check("smtp", "warn" if warning else "ok", text + warning)
