"""Fixing a failure by hand (SPEC 13): `failures assign UID --account ID --as EMAIL` logs a
message of the failed folder on the account a person chose — rule `manual`, the trace saying
who chose it — and moves it to the logged folder, where `failures` no longer lists it.

The commit comes first and the move after it, as in a pass: if the move fails the message is
still in the failed folder, already logged, and the next `failures retry` + pass moves it as a
duplicate, never logging it twice.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from core.errors import MessageError, NotFound, TouchlogError
from core.reasons import (
    KEYWORD_PREFIX,
    LOGGED,
    MANUAL,
    REPLY,
    THREAD,
    UNAUTHENTICATED_SENDER,
)
from core.settings import Settings
from core.utc import iso_utc, utcnow
from poller.decide.reading import Context, Reading, Source
from poller.decide.records import logged
from poller.decide.resolve import Decision
from poller.decide.trace import account_ids_seen
from poller.decide.verdict import Logged
from poller.failed import learn
from poller.failed.folder import imap_uids
from poller.imap.login import open_mailbox
from poller.mail.message import parse_message
from poller.passes.commit import commit
from poller.understand.participants import Understanding, header_participants, understand
from poller.understand.threads import joinable, thread_address
from store.ledger import records as ledger
from store.ledger.models import MessageRecord
from store.models import TeamMember
from store.timeline.threads import TEAM_MEMBER


def assign(settings: Settings, uid: int, account_id: str, member: TeamMember,
           now: datetime | None = None, remember: bool = False) -> int:
    """Log failed message `uid` on `account_id` as chosen by `member`; its touchpoint id.
    `remember`: its customer addresses become contacts of the account (poller.failed.learn)."""
    learn.assignable(account_id)  # the web calls this too, not only the CLI
    mb = settings.mailbox
    with open_mailbox(settings) as box:
        box.ensure_folders(mb.failed_folder, mb.logged_folder)
        entries = {e.uid: e for e in box.list_entries(mb.failed_folder, imap_uids([uid]))}
        raw = box.fetch_raw(mb.failed_folder, uid) if uid in entries else None
        if raw is None:
            raise NotFound(f"no message with UID {uid} in {mb.failed_folder}")
        source = Source(mailbox=mb.failed_folder, uid=uid, internal_date=entries[uid].date)
        ctx = Context(settings)
        tp_id = log_by_hand(raw, ctx, source, account_id, member, now)
        if remember:
            learn.remember(ctx, raw, tp_id, member, now)
        keywords = [f for f in entries[uid].flags if f.lower().startswith(KEYWORD_PREFIX)]
        if keywords:
            box.remove_keywords(mb.failed_folder, [uid], keywords)
        box.move(mb.failed_folder, [uid], mb.logged_folder)
    return tp_id


def log_by_hand(raw: bytes, ctx: Context, source: Source, account_id: str,
                member: TeamMember, now: datetime | None = None) -> int:
    try:
        msg = parse_message(raw)
    except MessageError as exc:
        raise TouchlogError(f"UID {source.uid} cannot be read, so it cannot be logged: "
                            f"{exc}") from None
    key, existing = ledger.place(msg.key, msg.sender.email if msg.sender else "", raw)
    if existing is not None and existing.outcome == LOGGED and existing.touchpoint_id:
        return int(existing.touchpoint_id)  # logged already (a move that did not happen)
    # A person chose: no notice is due, whatever the mailbox (a retried failure is overwritten).
    reading = Reading(msg, replace(source, notices=False), raw, key, existing)
    verdict = _verdict(reading, ctx, account_id, member, now or utcnow())
    outcome = commit(verdict)
    if outcome.touchpoint_id is None:
        raise TouchlogError(f"UID {source.uid} was logged by another worker meanwhile")
    return outcome.touchpoint_id


def _verdict(r: Reading, ctx: Context, account_id: str, member: TeamMember,
             now: datetime) -> Logged:
    msg = r.message
    author = _established_author(r, ctx)
    trace = _manual_trace(r.existing, account_id, member, now, ctx)
    if author is None:  # SPEC 20: the claim is kept, the credit goes to who chose
        trace["steps"][-1].update(claimed_sender=r.sender, sender_verified=False)
    trusted = author is not None
    r = replace(r, creator=author or member, trace=trace)
    joined = _joined_thread(r, ctx, account_id, trusted)
    if joined is not None:
        return joined
    u = understand(msg, ctx.book, trusted)
    people = u.participants or header_participants(msg, ctx.book, trusted=trusted)
    understanding = replace(u, participants=people, failure=None, detail="")
    reading = replace(r, understanding=understanding)
    return logged(reading, ctx, understanding, Decision(account_id, MANUAL, None, "", trace))


def _established_author(r: Reading, ctx: Context) -> TeamMember | None:
    """The team member who sent the message, when that is established: the From is on the team,
    the message did not fail sender authentication, and it passes it now (SPEC 11, 20)."""
    member = ctx.directory.team_member(r.sender) if r.sender else None
    if member is None or (r.existing is not None and
                          r.existing.reason == UNAUTHENTICATED_SENDER):
        return None
    return member if ctx.authenticated(r.message) is None else None


def _joined_thread(r: Reading, ctx: Context, account_id: str, trusted: bool) -> Logged | None:
    """A reply to a thread on the chosen account joins that thread, as a reply logged by the
    rules would (scenario reply, rule thread, its parent), whoever sent it."""
    msg = r.message
    addr = thread_address((a.email for a in msg.to + msg.cc), ctx.book.mailbox_address)
    found = joinable(addr, account_id, msg.references) if addr is not None else None
    if addr is None or found is None:
        return None
    first, parent_id = found
    # The thread step first: whether this reply's people may post later reads it
    # (store.timeline.threads.made_by_team).
    step = {"rule": THREAD, "address": addr.address, "thread_id": first.id,
            "sender": r.sender, "sender_is": TEAM_MEMBER if trusted else None,
            "account_id": account_id, "parent_id": parent_id, "result": THREAD}
    trace = {**r.trace, "scenario": REPLY, "candidates": [], "rule": THREAD,
             "steps": [step, {**r.trace["steps"][-1], "result": THREAD}]}
    people = header_participants(msg, ctx.book, leave_out=[addr.address], trusted=trusted)
    u = Understanding(REPLY, people, (), msg.subject, None, "")
    reading = replace(r, understanding=u, trace=trace)
    return logged(reading, ctx, u, Decision(account_id, THREAD, None, "", trace),
                  parent_id=parent_id)


def _manual_trace(existing: MessageRecord | None, account_id: str, member: TeamMember,
                  now: datetime, ctx: Context) -> dict[str, Any]:
    """What the rules saw, then who chose which account instead."""
    trace: dict[str, Any] = dict(existing.trace) if existing and existing.trace else {}
    trace.setdefault("candidates", [])
    steps = list(trace.get("steps", []))
    steps.append({"rule": MANUAL, "by": member.email, "at": iso_utc(now),
                  "account_id": account_id, "was": existing.reason if existing else None,
                  "result": MANUAL})
    names = {**trace.get("names", {}), **ctx.directory.account_names([account_id])}
    trace.update(steps=steps, names=names, account_id=account_id, rule=MANUAL, reason=None,
                 detail="")
    return trace


def candidate_accounts(trace: dict[str, Any]) -> list[tuple[str, str]]:
    """The accounts the rules saw for a failed message, with their names, in the order seen:
    the ones a person assigning it most likely wants."""
    names = trace.get("names", {})
    return [(acc, names.get(acc, "")) for acc in account_ids_seen(trace)]

