"""`touchlog check`: one line per part, each saying plainly whether it works."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import NamedTuple

from commands.checks.storage import database_check, files_check
from core.errors import TouchlogError
from core.sections import TrustSettings
from core.settings import Settings


class Check(NamedTuple):
    name: str
    status: str  # "ok" | "warn" (works, but not as it should in production) | "FAIL"
    text: str


def run_checks(settings: Settings) -> Iterator[Check]:
    where = settings.path or settings.base_dir
    yield Check("settings", "ok", f"{where} loaded")
    seen: list[str | None] = []  # the inbox's topmost authserv-ids, filled by _imap
    yield from _imap(settings, seen)
    yield trust_check(settings.trust, seen)
    yield Check(*database_check(settings))
    yield Check(*files_check(settings))
    yield _smtp(settings)
    yield _salesforce(settings)


def _unverified(tls: str, verify: bool, key: str) -> str:
    """The warning for TLS without certificate checks: anyone on the path can read along."""
    if tls == "none" or verify:
        return ""
    return f"; WARNING: the server's certificate is not checked ({key} = false)"


def _imap(settings: Settings, seen: list[str | None]) -> Iterator[Check]:
    from poller.imap.login import open_mailbox

    mb = settings.mailbox
    try:
        with open_mailbox(settings) as box:
            missing = box.missing_folders(mb.folder, mb.logged_folder, mb.failed_folder)
            if mb.folder not in missing:
                seen.extend(_topmost_ids(box.latest_headers(mb.folder, _AR, INBOX_SAMPLE)))
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


INBOX_SAMPLE = 20  # newest inbox messages whose Authentication-Results `check` reads
_AR = "Authentication-Results"


def _topmost_ids(blocks: list[bytes]) -> list[str | None]:
    """The authserv-id of each message's topmost Authentication-Results (None: it has none)."""
    from email.parser import BytesHeaderParser

    from poller.understand.authres import parse

    ids: list[str | None] = []
    for block in blocks:
        values = BytesHeaderParser().parsebytes(block).get_all(_AR) or []
        ids.append(parse(str(values[0])).authserv_id or None if values else None)
    return ids


def seen_authserv_ids(settings: Settings) -> list[str | None]:
    """The topmost authserv-id of the inbox's newest messages (None: a message has none),
    read without touching them (a read-only SELECT, PEEK fetches of one header field)."""
    from poller.imap.login import open_mailbox

    with open_mailbox(settings) as box:
        return _topmost_ids(box.latest_headers(settings.mailbox.folder, _AR, INBOX_SAMPLE))


def trust_refusal(settings: Settings) -> str:
    """SPEC 20: with require = "aligned" and no authserv_ids, every message would fail
    unauthenticated_sender and every member be told that someone may be impersonating them.
    `poll` refuses to start instead, with this line: what to set, and what the inbox shows."""
    try:
        seen = seen_authserv_ids(settings)
    except TouchlogError as exc:
        hint = f"the inbox could not be read to name the authserv-ids in it ({exc})"
    else:
        found = [i for i in seen if i]
        hint = (f"the newest messages in {settings.mailbox.folder} carry Authentication-Results "
                f"of {_counted(seen)}: if {found[0]} is your inbound mail server, set "
                f'authserv_ids = ["{found[0]}"]' if found else
                f"none of the {len(seen)} newest messages in {settings.mailbox.folder} carries "
                "an Authentication-Results header; `touchlog check` shows them as mail arrives")
    return (f'trust.authserv_ids is empty with trust.require = "aligned": every message would '
            f"fail unauthenticated_sender, so poll does not start (no message touched); {hint}")


def trust_check(trust: TrustSettings, seen: list[str | None]) -> Check:
    """SPEC 11 in one line: whose verdict counts, and what the inbox shows of it."""
    if trust.require == "none":
        return Check("trust", "warn", 'WARNING: require = "none": senders are not '
                     "authenticated, anyone can log as a team member by writing their address")
    found = _counted(seen)
    if not trust.authserv_ids:
        hint = f"; the inbox's newest messages' Authentication-Results come from {found}" \
            if found else "; no Authentication-Results seen in the inbox"
        return Check("trust", "FAIL", "no [trust] authserv_ids: poll does not start (every "
                     f"message would fail unauthenticated_sender){hint}")
    listed = {i.lower() for i in trust.authserv_ids}
    text = f"authserv_ids {', '.join(trust.authserv_ids)}, require aligned"
    if seen and not listed.intersection(i for i in seen if i):
        return Check("trust", "warn", f"{text}; but none of the inbox's {len(seen)} newest "
                     f"messages has a topmost header of them ({found or 'none has one'})")
    return Check("trust", "ok", text)


def _counted(seen: list[str | None]) -> str:
    counts = Counter(i for i in seen if i)
    return ", ".join(f"{i} ({n})" for i, n in counts.most_common())


def _folders(settings: Settings, missing: list[str], labels: dict[str, str]) -> Check:
    mb = settings.mailbox
    if mb.folder in missing:
        return Check("folders", "FAIL", f"folder {labels[mb.folder]} is missing on {mb.host}")
    if missing:
        return Check("folders", "ok", f"{labels[mb.folder]} ok; "
                     f"{', '.join(labels[n] for n in missing)} will be created on the first poll")
    return Check("folders", "ok", ", ".join(labels.values()) + " exist")


def _smtp(settings: Settings) -> Check:
    from poller.notify import smtp

    notify = settings.notify
    if not notify.enabled:
        return Check("smtp", "ok", "notices are off (notify.enabled = false)")
    try:
        text = smtp.check_smtp(settings)
    except TouchlogError as exc:
        return Check("smtp", "FAIL", str(exc))
    warning = _unverified(notify.smtp_tls, notify.verify_tls, "notify.verify_tls")
    return Check("smtp", "warn" if warning else "ok", text + warning)


def _salesforce(settings: Settings) -> Check:
    from sync.check import check_salesforce

    passed, text = check_salesforce(settings)
    return Check("salesforce", "ok" if passed else "FAIL", text)
