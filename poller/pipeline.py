"""One message → one outcome: a fixed chain of small steps, then one database transaction.

`decide` only reads (it is all `process --dry-run` runs); `commit` writes the record, the
touchpoint and the notice together, so a crash leaves either all of them or none.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.utils import parseaddr
from typing import Any

from peewee import IntegrityError

from poller import filters, notices
from poller.addresses import PersonalDomains, domain_of, normalize
from poller.errors import MessageError
from poller.limits import MAX_SUBJECT_CHARS, cut
from poller.message import (
    Message,
    depth_limit_hit,
    message_id_as_written,
    message_key,
    normalize_message_id,
    parse_message,
)
from poller.notice_text import compose
from poller.participants import AddressBook, Understanding, header_participants, understand
from poller.reasons import LOGGED, REPLY, THREAD, UNKNOWN_THREAD
from poller.resolve import Decision, Policy, resolve
from poller.settings import Settings
from poller.threads import judge, thread_address
from store import ledger
from store.directory import SqlDirectory
from store.models import MessageRecord, TeamMember, database
from store.touchpoints import NewTouchpoint, create_touchpoint, keep_attachment

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Source:
    """Where the bytes came from: a mailbox folder and UID, or a local file."""

    mailbox: str
    uid: int | None = None
    internal_date: datetime | None = None


@dataclass(frozen=True)
class Verdict:
    key: str
    message_id: str
    outcome: str  # logged | skipped | failed
    reason: str | None  # the deciding rule, the skip reason or the failure reason code
    detail: str = ""
    sender: str = ""
    subject: str = ""
    date: datetime | None = None
    trace: dict[str, Any] = field(default_factory=dict)
    message: Message | None = None
    creator: TeamMember | None = None
    understanding: Understanding | None = None
    decision: Decision | None = None
    existing: MessageRecord | None = None
    written_id: str = ""  # the Message-ID as the mail wrote it: stored, shown, replied to
    # True when the ledger already holds what there is to say (a duplicate, or a crash came
    # between commit and move): nothing is written again, the message is only moved.
    replay: bool = False
    # A reply to a thread (SPEC 14): the touchpoint it answers.
    parent_id: int | None = None

    @property
    def keyword(self) -> str | None:
        return f"$tl_{self.reason}" if self.outcome == "failed" else None


@dataclass(frozen=True)
class Outcome:
    key: str
    outcome: str
    reason: str | None
    detail: str = ""
    touchpoint_id: int | None = None
    keyword: str | None = None
    # False when another worker committed the key first: the message is left for it to move.
    movable: bool = True


class Context:
    """What every message of a pass shares: settings, directory, rules, the clock."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime] | None = None) -> None:
        t = settings.touchpoints
        self.settings = settings
        self.clock = clock or (lambda: datetime.now(UTC))
        self.directory = SqlDirectory(t.case_sensitive_local_part)
        self.policy = Policy.from_settings(t)
        self.book = AddressBook(
            mailbox_address=normalize(t.mailbox_address),
            internal_domains=t.internal_domains,
            team_addresses=self.directory.team_addresses(),
            personal_domains=PersonalDomains(t.personal_domains),
            case_sensitive_local_part=t.case_sensitive_local_part,
        )


# --- deciding --------------------------------------------------------------------------------


def decide(raw: bytes, ctx: Context, source: Source) -> Verdict:
    """Every step that only reads: parse, filter, sender, scenario, account."""
    try:
        msg = parse_message(raw)
    except MessageError as exc:
        return _against_ledger(_parse_error(raw, str(exc)), source)
    base = _against_ledger(Verdict(key=msg.key, message_id=msg.message_id,
                                   written_id=msg.written_id, outcome="",
                                   reason=None, sender=msg.sender.email if msg.sender else "",
                                   subject=msg.subject, date=msg.date, message=msg), source)
    if base.outcome:
        return base
    for step in (_filtered, _thread_reply, _from_team, _not_empty, _understood, _resolved):
        base = step(base, ctx)
        if base.outcome:
            return base
    raise AssertionError("the last step always decides")  # pragma: no cover


def _against_ledger(v: Verdict, source: Source) -> Verdict:
    existing = ledger.find_record(v.key)
    if existing is None:
        return v
    return _already_handled(v, existing, source) or replace(v, existing=existing)


def _already_handled(base: Verdict, existing: MessageRecord, source: Source) -> Verdict | None:
    if existing.outcome in ("logged", "skipped"):
        # A second copy, or this very message after a crash before its move: nothing to write.
        return replace(base, outcome="skipped", reason="duplicate", replay=True,
                       existing=existing,
                       detail=f"already {existing.outcome} ({existing.reason})")
    if existing.uid is not None and existing.uid == source.uid \
            and existing.mailbox == source.mailbox:
        # Committed as failed, then the move did not happen: do not notify twice.
        return replace(base, outcome="failed", reason=existing.reason, detail=existing.detail,
                       trace=existing.trace, replay=True)
    return None  # failed before, back in the inbox: processed afresh (failures retry)


def _filtered(v: Verdict, ctx: Context) -> Verdict:
    reason = filters.skip_reason(v.message)
    return replace(v, outcome="skipped", reason=reason) if reason else v


def _thread_reply(v: Verdict, ctx: Context) -> Verdict:
    """Scenario `reply` (SPEC 14): mail to a thread's Reply-To joins that thread, from a team
    member, a participant of the thread or a customer user of its account."""
    msg = v.message
    addr = thread_address((a.email for a in msg.to + msg.cc), ctx.book.mailbox_address)
    if addr is None:
        return v
    member = ctx.directory.team_member(v.sender) if v.sender else None
    reply = judge(addr, v.sender, member is not None, msg.references)
    v = replace(v, creator=member, trace=reply.trace)
    if reply.failure or reply.first is None:
        return _fail(v, reply.failure or UNKNOWN_THREAD, reply.detail)
    v = _not_empty(v, ctx)
    if v.outcome:
        return v
    people = header_participants(msg, ctx.book, leave_out=[addr.address])
    u = Understanding(REPLY, people, (), msg.subject, None, "")
    decision = Decision(reply.first.account_id, THREAD, None, "", reply.trace)
    return replace(v, outcome=LOGGED, reason=THREAD, understanding=u, decision=decision,
                   parent_id=reply.parent_id)


def _from_team(v: Verdict, ctx: Context) -> Verdict:
    member = ctx.directory.team_member(v.sender) if v.sender else None
    if member is None:
        return _fail(v, "unknown_sender",
                     f"{v.sender or 'the sender'} is not a team member or an alias of one")
    return replace(v, creator=member)


def _not_empty(v: Verdict, ctx: Context) -> Verdict:
    msg = v.message
    has_text = msg.subject.strip() or msg.text.strip() or msg.attached_messages
    return v if has_text else _fail(v, "empty", "the message has no subject and no text")


def _understood(v: Verdict, ctx: Context) -> Verdict:
    u = understand(v.message, ctx.book)
    v = replace(v, understanding=u, subject=u.subject)
    if u.failure:
        return _fail(v, u.failure, u.detail, trace={"scenario": u.scenario, "candidates": []})
    return v


def _resolved(v: Verdict, ctx: Context) -> Verdict:
    u = v.understanding
    decision = resolve(u.candidates, v.creator.id, domain_of(v.creator.email), ctx.directory,
                       ctx.policy, ctx.clock())
    trace = {"scenario": u.scenario, **decision.trace}
    v = replace(v, decision=decision, trace=trace)
    if decision.account_id is None:
        return _fail(v, decision.reason or "no_account", decision.detail, trace=trace)
    return replace(v, outcome="logged", reason=decision.rule)


def _fail(v: Verdict, reason: str, detail: str, trace: dict | None = None) -> Verdict:
    # A failure may come from what was not read: say so, or the detail misleads.
    cut = depth_limit_hit(v.message) if v.message is not None else ""
    if cut:
        detail = f"{detail} (the message was not read whole: {cut})"
    return replace(v, outcome="failed", reason=reason, detail=detail,
                   trace=trace if trace is not None else v.trace)


def _parse_error(raw: bytes, error: str) -> Verdict:
    """An unreadable message still gets a record (its raw bytes stay in the failed folder) and,
    from whatever headers can be read, a notice that answers it."""
    try:
        headers = BytesHeaderParser().parsebytes(raw)
        sender = parseaddr(str(headers.get("From", "")))[1]
        subject = cut(" ".join(str(headers.get("Subject", "") or "").split()),
                      MAX_SUBJECT_CHARS, " ")
        written_id = message_id_as_written(str(headers.get("Message-ID", "") or ""))
    except Exception:  # the bytes are beyond even a header read; the key still keeps them apart
        sender, subject, written_id = "", "", ""
    message_id = normalize_message_id(written_id)
    return Verdict(key=message_key(message_id, raw), message_id=message_id,
                   written_id=written_id, outcome="failed", reason="parse_error", detail=error,
                   sender=sender, subject=subject)


# --- committing ------------------------------------------------------------------------------


def commit(v: Verdict, ctx: Context, source: Source, notify: bool = True) -> Outcome:
    """Write what was decided in one transaction; the caller moves the message afterwards."""
    if v.replay:
        return _outcome(v, None)
    attachments = _keep_attachments(v, ctx) if v.outcome == "logged" else ()
    try:
        with database.atomic():
            tp = _write_touchpoint(v, ctx, source, attachments) if v.outcome == "logged" else None
            record = ledger.save_record(v.existing, **_record_fields(v, source, tp))
            if v.outcome == "failed" and notify:
                _queue_notice(v, ctx, record)
    except IntegrityError:
        # Another worker committed this key first: it owns the message now.
        log.info("message %s was committed by another worker", v.key)
        return Outcome(v.key, "skipped", "duplicate", "committed by another worker",
                       movable=False)
    log.info("message %s: %s %s", v.key, v.outcome, v.reason)
    return _outcome(v, tp.id if tp else None)


def _outcome(v: Verdict, touchpoint_id: int | None) -> Outcome:
    return Outcome(v.key, v.outcome, v.reason, v.detail, touchpoint_id, v.keyword)


def _record_fields(v: Verdict, source: Source, tp: Any) -> dict[str, Any]:
    # The ledger finds a message by its key (the normalized id); the id is kept as written.
    return dict(key=v.key, message_id=v.written_id or v.message_id or None, outcome=v.outcome,
                reason=v.reason,
                detail=v.detail, trace=v.trace, touchpoint=tp, sender=v.sender,
                subject=v.subject, date=_naive(v.date), mailbox=source.mailbox, uid=source.uid)


def _keep_attachments(v: Verdict, ctx: Context) -> tuple[dict[str, Any], ...]:
    directory = ctx.settings.attachments_path()
    kept = []
    for att in _all_attachments(v.message):
        keep_attachment(directory, att.sha256, att.data)
        kept.append({"filename": att.filename, "content_type": att.content_type,
                     "size": att.size, "sha256": att.sha256})
    return tuple(kept)


def _all_attachments(msg: Message) -> list:
    found = list(msg.attachments)
    for inner in msg.attached_messages:
        found.extend(_all_attachments(inner))
    return found


def _write_touchpoint(v: Verdict, ctx: Context, source: Source, attachments: tuple) -> Any:
    t = ctx.settings.touchpoints
    msg, u = v.message, v.understanding
    occurred = v.date or source.internal_date or ctx.clock()
    return create_touchpoint(NewTouchpoint(
        account_id=v.decision.account_id, flow=t.default_flow, reasons=t.default_reasons,
        occurred_at=_naive(occurred), subject=v.subject,
        content=content_of(msg, t.max_content_chars),
        # A customer's reply to a thread has a creator who is no team member.
        creator_id=v.creator.id if v.creator else None,
        creator_email=v.creator.email if v.creator else v.sender,
        creator_domain=domain_of(v.creator.email if v.creator else v.sender),
        participants=tuple({"email": p.email, "name": p.name, "role": p.role}
                           for p in u.participants),
        attachments=attachments, message_key=v.key, message_id=v.message_id,
        mailbox=source.mailbox, uid=source.uid, scenario=u.scenario, rule=v.reason,
        trace=v.trace, references=msg.references, parent_id=v.parent_id,
    ))


def content_of(msg: Message, limit: int) -> str:
    """The text a person would read: the body, then any message attached as a forward."""
    parts = [msg.text.strip()]
    for inner in msg.attached_messages:
        sender = inner.sender.email if inner.sender else ""
        parts.append(f"---- Attached message ----\nFrom: {sender}\nSubject: {inner.subject}\n\n"
                     f"{inner.text.strip()}")
    return cut("\n\n".join(p for p in parts if p), limit)


def _queue_notice(v: Verdict, ctx: Context, record: MessageRecord) -> None:
    cfg = ctx.settings
    if not cfg.notify.enabled or not v.sender:
        return
    is_member = v.creator is not None or ctx.directory.team_member(v.sender) is not None
    if not notices.should_notify(v.sender, is_member, cfg.touchpoints.internal_domains):
        return
    candidates = v.understanding.candidates if v.understanding else ()
    original_subject = v.message.subject if v.message else v.subject
    subject, body = compose(v.reason, v.detail, original_subject, candidates, v.trace)
    # In-Reply-To repeats the id exactly as written, or mail clients may not thread the notice.
    notices.queue_notice(record, v.sender, subject, body, v.written_id or v.message_id or None)


def _naive(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value
