"""The stored things a verdict carries, built from what the steps read: the ledger record, the
touchpoint and its attachment files, the notice; and all of it as JSON for `process --dry-run`.
"""

from __future__ import annotations

import dataclasses
from email.utils import formataddr
from typing import TYPE_CHECKING, Any

from core.addresses import domain_of
from core.limits import cut
from core.message_ids import (
    raw_digest,
    read_headers,
)
from core.reasons import FAILED, LOGGED, REPLY, UNAUTHENTICATED_SENDER, UNKNOWN_SENDER
from core.utc import iso_utc, naive_utc
from poller.decide.resolve import Decision
from poller.decide.verdict import Failed, FileToKeep, Logged, NoticePlan, RecordPlan, Verdict
from poller.mail.message import Address, Message, depth_limit_hit
from poller.notify.notice_text import compose, compose_refused_reply, compose_unauthenticated
from poller.notify.recipients import UNVERIFIED, kind_for_sender, should_notify
from poller.understand.participants import Understanding
from store.encryption.sealed import SEALING
from store.timeline.attachments import attachment_path
from store.timeline.touchpoints import NewTouchpoint

if TYPE_CHECKING:  # the steps hand these in; importing them at run time would be a circle
    from poller.decide.reading import Context, Reading

def record_of(r: Reading, outcome: str, reason: str | None, detail: str = "",
              trace: dict[str, Any] | None = None) -> RecordPlan:
    msg = r.message
    subject = r.understanding.subject if r.understanding else msg.subject
    # The ledger finds a message by its key (the normalized id); the id is kept as written.
    return RecordPlan(key=r.key, message_id=msg.written_id or msg.message_id or None,
                      outcome=outcome,
                      reason=reason, detail=detail,
                      trace=r.trace if trace is None else trace, sender=r.sender,
                      subject=subject, date=naive_utc(msg.date), mailbox=r.source.mailbox,
                      uid=r.source.uid, replaces=r.existing,
                      # only a failure is ever compared by its bytes (store.ledger.records.place)
                      raw_sha256=raw_digest(r.raw) if outcome == FAILED and r.raw else None)


def failed(r: Reading, ctx: Context, reason: str, detail: str,
           decision: Decision | None = None) -> Failed:
    # A failure may come from what was not read: say so, or the detail misleads.
    unread = depth_limit_hit(r.message)
    if unread:
        detail = f"{detail} (the message was not read whole: {unread})"
    record = record_of(r, FAILED, reason, detail)
    return Failed(record, _notice(r, ctx, record), r.understanding, decision)


def logged(r: Reading, ctx: Context, u: Understanding, decision: Decision,
           parent_id: int | None = None) -> Logged:
    """`parent_id`: the touchpoint a reply to a thread answers (SPEC 14); else it is found
    from the message's references when written."""
    record = record_of(r, LOGGED, decision.rule)
    files = tuple(FileToKeep(att.filename, att.sha256, att.data)
                  for att in _all_attachments(r.message))
    return Logged(record, _touchpoint(r, ctx, record, u, decision, parent_id), files,
                  ctx.attachments_dir, u, decision, r.message)


def unreadable(raw: bytes) -> Message:
    """What can be read of a message that does not parse: its headers, if even those."""
    h = read_headers(raw)
    return Message(key=h.key, message_id=h.message_id, subject=h.subject,
                   sender=Address(h.sender) if h.sender else None, to=(), cc=(),
                   date=None, text="", html="", headers={}, content_type="", part_types=(),
                   references=(), written_id=h.written_id)


def _touchpoint(r: Reading, ctx: Context, record: RecordPlan, u: Understanding,
                decision: Decision, parent_id: int | None) -> NewTouchpoint:
    t = ctx.settings.touchpoints
    msg = r.message
    # The record's date is naive_utc(msg.date), None only when the message has none.
    occurred = record.date if record.date is not None \
        else naive_utc(r.source.internal_date or ctx.clock())
    assert decision.account_id is not None and decision.rule is not None
    # A customer's reply to a thread has a creator who is no team member.
    creator = r.creator
    creator_email = creator.email if creator else r.sender
    return NewTouchpoint(
        account_id=decision.account_id, flow=t.default_flow, reasons=t.default_reasons,
        occurred_at=occurred, subject=record.subject,
        content=content_of(msg, t.max_content_chars),
        creator_id=creator.id if creator else None, creator_email=creator_email,
        creator_domain=domain_of(creator_email),
        participants=tuple({"email": p.email, "name": p.name, "role": p.role}
                           for p in u.participants),
        attachments=tuple({"filename": a.filename, "content_type": a.content_type,
                           "size": a.size, "sha256": a.sha256}
                          for a in _all_attachments(msg)),
        message_key=record.key, message_id=msg.message_id, mailbox=record.mailbox,
        uid=record.uid, scenario=u.scenario, rule=decision.rule, trace=record.trace,
        references=msg.references, parent_id=parent_id, written_message_id=msg.written_id,
    )


def _all_attachments(msg: Message) -> list[Any]:
    found = list(msg.attachments)
    for inner in msg.attached_messages:
        found.extend(_all_attachments(inner))
    return found


def content_of(msg: Message, limit: int) -> str:
    """The text a person would read: the body, then any message attached as a forward."""
    parts = [msg.text.strip()]
    for inner in msg.attached_messages:
        sender = inner.sender.email if inner.sender else ""
        parts.append(f"---- Attached message ----\nFrom: {sender}\nSubject: {inner.subject}\n\n"
                     f"{inner.text.strip()}")
    return cut("\n\n".join(p for p in parts if p), limit)


def _notice(r: Reading, ctx: Context, record: RecordPlan) -> NoticePlan | None:
    cfg = ctx.settings
    if not r.source.notices or not cfg.notify.enabled:
        return None
    if record.reason == UNKNOWN_SENDER and record.trace.get("scenario") == REPLY:
        return _refused_reply_notice(r, ctx, record)
    if not r.sender:
        return None
    if record.reason == UNAUTHENTICATED_SENDER:
        return _impersonation_notice(r, ctx, record)
    is_member = r.creator is not None or ctx.directory.team_member(r.sender) is not None
    if not should_notify(r.sender, is_member, cfg.touchpoints.internal_domains):
        return None
    candidates = r.understanding.candidates if r.understanding else ()
    subject, body = compose(record.reason or "", record.detail, r.message.subject, candidates,
                            record.trace)
    # In-Reply-To repeats the id exactly as written, or mail clients may not thread the notice.
    msg = r.message
    return NoticePlan(r.sender.strip(), subject, body, msg.written_id or msg.message_id or None,
                      kind_for_sender(is_member))


def _refused_reply_notice(r: Reading, ctx: Context, record: RecordPlan) -> NoticePlan | None:
    """SPEC 20: a reply from someone who may not post in the thread is never answered; the
    team member who mailed the copy is told, in words of our own, the claims quoted."""
    member = ctx.directory.team_member(r.tell) if r.tell else None
    if member is None:
        return None
    step = record.trace["steps"][0]
    sender = r.message.sender
    claimed = formataddr((sender.name, sender.email)) if sender and sender.name else r.sender
    subject, body = compose_refused_reply(record.detail, claimed, r.message.subject,
                                          step.get("thread_id") or 0, step.get("account_id", ""))
    return NoticePlan(member.email, subject, body, None, UNVERIFIED)


def _impersonation_notice(r: Reading, ctx: Context, record: RecordPlan) -> NoticePlan | None:
    """SPEC 11: only to the team member whose address was used, never to an outside address;
    a fixed subject, the claims quoted and defanged, and no In-Reply-To: a forger's Message-ID
    must not thread our notice into a real conversation."""
    msg = r.message
    member = next((a for a in msg.authors if ctx.directory.team_member(a.email)), None)
    if member is None:
        return None
    claimed = formataddr((member.name, member.email)) if member.name else member.email
    if len(msg.authors) > 1:
        claimed = ", ".join(a.email for a in msg.authors)
    subject, body = compose_unauthenticated(record.detail, claimed, msg.subject)
    return NoticePlan(member.email, subject, body, None, UNVERIFIED)


def as_json(v: Verdict) -> dict[str, Any]:
    """Everything `commit` would store for this verdict (`process --dry-run` prints it)."""
    record = {f.name: getattr(v.record, f.name) for f in dataclasses.fields(v.record)
              if f.name != "replaces"}
    record["date"] = iso_utc(v.record.date)
    stored: dict[str, Any] = {"record": record}
    if isinstance(v, Logged):
        tp = dataclasses.asdict(v.touchpoint)
        tp["occurred_at"] = iso_utc(v.touchpoint.occurred_at)
        stored["touchpoint"] = tp
        ring = SEALING.ring  # keyed file names when encryption is on (SPEC 12)
        stored["files"] = [str(attachment_path(v.attachments_dir, f.sha256, ring))
                           for f in v.files]
    if isinstance(v, Failed) and v.notice is not None:
        stored["notice"] = dataclasses.asdict(v.notice)
    return stored
