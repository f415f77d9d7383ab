"""Mailing a copy of a touchpoint (SPEC 14) over the notify SMTP settings, and who gets which
copy: worked out here once for `touchpoints send`, `edit --notify` and the web app.

One message per audience: internal participants, external participants, or the author ("me").
Internal copies (and the author's own) begin with the account's name, id and last touch;
external ones do not. Every copy carries the thread's Reply-To, so answers join the thread, and
its Message-ID is recorded, so a reply to the copy finds the touchpoint it answers.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from typing import Any

from core.addresses import domain_of
from core.errors import NoticeError, TouchlogError
from core.message_ids import normalize_message_id
from core.settings import Settings
from core.utc import iso_utc, utcnow
from poller.mail.message import Address
from poller.notify.smtp import close_smtp, open_smtp, smtp_refusal
from poller.understand.participants import AddressBook, Roles
from poller.understand.threads import reply_to
from store.directory.lookups import SqlDirectory
from store.encryption.sealed import SEALING
from store.models import Account, TeamMember, Touchpoint
from store.timeline.accounts import last_touch
from store.timeline.attachments import read_attachment_file
from store.timeline.manage import Changes, participants_after
from store.timeline.threads import record_mail
from store.timeline.touchpoints import kept_files, thread_of

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Copy:
    audience: str  # internal | external | me
    recipients: tuple[str, ...]


def copies_to(settings: Settings, tp: Touchpoint, member: TeamMember,
              audiences: Sequence[str]) -> list[Copy]:
    """`send --to internal|external|me`: who gets which copy. An audience nobody is in is an
    error (nothing is sent); the author gets one copy, not two."""
    split = _by_role(settings, tp, tp.participants)
    copies = []
    for audience in dict.fromkeys(audiences):
        if audience == "me":
            copies.append(Copy("me", (member.email,)))
            continue
        people = split[audience]
        if not people:
            raise TouchlogError(f"touchpoint {tp.id} has no {audience} participants to send to")
        if "me" in audiences:
            people = tuple(p for p in people if p.lower() != member.email.lower())
        if people:
            copies.append(Copy(audience, people))
    return copies


def copies_for_edit(settings: Settings, before: Touchpoint, changes: Changes,
                    notify: str) -> list[Copy]:
    """`edit --notify new|all`, worked out before the edit is written (so that mailing a
    customer can be confirmed first): the participants `changes` adds, or every participant
    after it, split by role."""
    if notify not in ("new", "all"):
        return []
    after, added = participants_after(before, changes)
    split = _by_role(settings, before, after if notify == "all" else added)
    return [Copy(audience, split[audience]) for audience in ("internal", "external")
            if split[audience]]


def _by_role(settings: Settings, tp: Touchpoint,
             people: Sequence[dict[str, str]]) -> dict[str, tuple[str, ...]]:
    """Addresses by audience, decided now (SPEC 20): an internal copy carries the account's
    name and history, so it goes only to a participant stored as internal who is internal by
    today's rules too (a team member or alias, under `internal_domains`, or at the domain of a
    creator who is still on the team); everyone else gets the external copy. A role stored by
    an older touchlog, or before someone left the team, cannot leak the internal one."""
    t = settings.touchpoints
    book = AddressBook.of(t, SqlDirectory(t.case_sensitive_local_part).team_addresses())
    roles = Roles(book, Address(tp.creator_email) if tp.creator_email else None)
    split: dict[str, dict[str, None]] = {"internal": {}, "external": {}}
    for p in people:
        if roles.is_mailbox(p["email"]):
            continue
        inside = p.get("role") == "internal" and roles.is_internal(p["email"])
        split["internal" if inside else "external"].setdefault(p["email"], None)
    return {audience: tuple(chosen) for audience, chosen in split.items()}


def send_copies(settings: Settings, tp: Touchpoint, member: TeamMember,
                copies: Sequence[Copy], now: datetime | None = None) -> list[Copy]:
    """Send each copy in one SMTP session; returns those the server took (each recorded)."""
    now = now or utcnow()
    sent: list[Copy] = []
    smtp = open_smtp(settings)
    try:
        for copy in copies:
            msg = build_copy(settings, tp, member, copy, now)
            try:
                smtp.send_message(msg)
            except smtplib.SMTPException as exc:
                done = "; ".join(f"{c.audience} sent" for c in sent) or "nothing sent"
                raise NoticeError(f"smtp {settings.notify.smtp_host}:{settings.notify.smtp_port}"
                                  f" refused the {copy.audience} copy: {smtp_refusal(exc)} "
                                  f"({done})") from None
            record_mail(tp, normalize_message_id(msg["Message-ID"]), copy.audience,
                        copy.recipients, member.email)
            log.info("touchpoint %s mailed to %s (%s)", tp.id, copy.audience,
                     ", ".join(copy.recipients))
            sent.append(copy)
    finally:
        close_smtp(smtp)
    return sent


def build_copy(settings: Settings, tp: Touchpoint, member: TeamMember, copy: Copy,
               now: datetime) -> EmailMessage:
    notify = settings.notify
    msg = EmailMessage()
    msg["From"] = formataddr((f"{member.name or member.email} via touchlog",
                              notify.from_address))
    msg["To"] = ", ".join(copy.recipients)
    msg["Subject"] = tp.subject or f"Touchpoint {tp.id}"
    msg["Date"] = format_datetime(now.replace(tzinfo=UTC))
    msg["Message-ID"] = make_msgid(idstring=f"tl-tp{tp.id}",
                                   domain=domain_of(notify.from_address) or "touchlog")
    msg["Reply-To"] = reply_to(settings.touchpoints.mailbox_address, thread_of(tp))
    if tp.message_id:
        msg["In-Reply-To"] = msg["References"] = f"<{tp.message_id}>"
    header = internal_header(tp) if copy.audience in ("internal", "me") else ""
    files = _kept_files(tp, settings)
    msg.set_content(header + body_of(tp, {att["sha256"] for att, _ in files}))
    for att, data in files:
        maintype, _, subtype = (att["content_type"] or "").partition("/")
        if not subtype:
            maintype, subtype = "application", "octet-stream"
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=att["filename"])
    return msg


def _kept_files(tp: Touchpoint, settings: Settings) -> list[tuple[dict[str, Any], bytes]]:
    """The touchpoint's files as kept (opened when sealed); one no longer kept is only
    named in the text."""
    return [(att, read_attachment_file(path, att["sha256"], SEALING.ring))
            for att, path in kept_files(tp, settings.attachments_path()) if path is not None]


def internal_header(tp: Touchpoint) -> str:
    """What a colleague needs first: whose account, and when it was last touched."""
    account = Account.get_by_id(tp.account_id)
    last, touches = last_touch(tp.account_id)
    return (f"Account: {account.name} ({account.account_id})\n"
            f"Last touch: {iso_utc(last) or 'never'} ({touches} touch"
            f"{'' if touches == 1 else 'es'})\n"
            f"Touchpoint {tp.id}: {tp.type}, {tp.flow}, by {tp.creator_email}\n"
            + "-" * 60 + "\n\n")


def body_of(tp: Touchpoint, attached: set[str] | None = None) -> str:
    when = tp.occurred_at.replace(microsecond=0).isoformat(sep=" ")
    people = ", ".join(p["email"] for p in tp.participants) or "none"
    files = "".join(f"\nAttachment no longer kept: {a['filename']} ({a['size']} bytes)"
                    for a in tp.attachments if a["sha256"] not in (attached or set()))
    return (f"{when} UTC — {tp.subject or '(no subject)'}\nParticipants: {people}\n\n"
            f"{tp.content.strip()}\n{files}\n\n-- \nReply to this message to add to the "
            "conversation.\n")
