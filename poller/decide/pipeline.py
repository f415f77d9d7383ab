"""One message → one typed verdict (poller.decide.verdict): a fixed list of small steps that
only read.

`decide` parses the message and runs `STEPS` in order; each step returns the message as read so
far (`Reading`), with what it learnt, or a verdict that ends the chain. The verdict holds
everything that will be stored; `poller.passes.commit.commit` writes it in one transaction, and
`process --dry-run` prints it. A new check is a new step in `STEPS`, in SPEC's order.
"""

from __future__ import annotations

import logging

from core.addresses import domain_of
from core.errors import MessageError
from core.reasons import (
    DUPLICATE,
    EMPTY,
    LOGGED,
    NO_ACCOUNT,
    PARSE_ERROR,
    REPLY,
    SKIPPED,
    THREAD,
    TOO_LARGE,
    UNAUTHENTICATED_SENDER,
    UNKNOWN_SENDER,
    UNKNOWN_THREAD,
)
from poller.decide.reading import Context, Reading, Source, Step
from poller.decide.records import failed, logged, record_of, unreadable
from poller.decide.resolve import Decision, resolve
from poller.decide.verdict import Replay, Skipped, Verdict
from poller.mail.message import Message, parse_message
from poller.understand import filters
from poller.understand.early import Ahead
from poller.understand.participants import (
    Understanding,
    header_participants,
    understand,
)
from poller.understand.threads import judge, thread_address
from store.ledger import records as ledger

log = logging.getLogger(__name__)


def decide(raw: bytes, ctx: Context, source: Source,
           parsed: Message | Ahead | MessageError | None = None) -> Verdict:
    """Every step that only reads: parse, ledger, filter, sender, text, scenario, account.

    `parsed`: what parse_message made of `raw` (or the MessageError it raised) elsewhere, in a
    worker process (poller.passes.workers), maybe with what the message alone decides (an Ahead);
    None parses here."""
    steps: tuple[Step, ...] = STEPS
    try:
        if isinstance(parsed, MessageError):
            raise parsed
        if isinstance(parsed, Ahead):
            reading = Reading(parsed.message, source, raw, ahead=parsed)
        else:
            reading = Reading(parsed or parse_message(raw), source, raw)
    except MessageError as exc:
        # Still a record (its raw bytes stay in the failed folder) and, from whatever headers
        # can be read, a notice that answers it.
        reading = Reading(unreadable(raw), source, raw)
        steps = (_against_ledger, _parse_error(exc))
    for step in steps:
        result = step(reading, ctx)
        if not isinstance(result, Reading):
            return result
        reading = result
    raise AssertionError("the last step always decides")  # pragma: no cover


def decide_unread(headers: bytes, ctx: Context, source: Source, size: int) -> Verdict:
    """A message over `mailbox.max_message_bytes`, of which only some header fields were
    fetched (SPEC 20): `too_large`, once its sender is established, with the usual notice."""
    try:
        reading = Reading(parse_message(headers), source, headers)
    except MessageError:
        reading = Reading(unreadable(headers), source, headers)
    for step in (_against_ledger, _authenticated, _too_large(size)):
        result = step(reading, ctx)
        if not isinstance(result, Reading):
            return result
        reading = result
    raise AssertionError("the last step always decides")  # pragma: no cover


def _too_large(size: int) -> Step:
    def fail(r: Reading, ctx: Context) -> Verdict:
        limit = ctx.settings.mailbox.max_message_bytes
        return failed(r, ctx, TOO_LARGE, f"the message is {size:,} bytes, over "
                      f"mailbox.max_message_bytes ({limit:,}): only its headers were read")
    return fail


def _against_ledger(r: Reading, ctx: Context) -> Reading | Verdict:
    """A message is a duplicate only of one with the same key and author (store.ledger)."""
    key, existing = ledger.place(r.message.key, r.sender, r.raw)
    r = r.but(ledger_key=key)
    if existing is None:
        return r
    # This very message, committed by an earlier pass that could not move it (a crash, a lost
    # connection): nothing is written or sent again, it is only moved (counted `recovered`).
    same = existing.uid is not None and existing.uid == r.source.uid \
        and existing.mailbox == r.source.mailbox
    if existing.outcome in (LOGGED, SKIPPED) and same:
        return Replay(record_of(r, existing.outcome, existing.reason, existing.detail,
                                existing.trace), recovered=True)
    if existing.outcome in (LOGGED, SKIPPED):
        # A second copy: nothing to write.
        return Replay(record_of(r, SKIPPED, DUPLICATE,
                                f"already {existing.outcome} ({existing.reason})"))
    if same:
        # Committed as failed, then the move did not happen: do not notify twice.
        return Replay(record_of(r, existing.outcome, existing.reason, existing.detail,
                                existing.trace), recovered=True)
    return r.but(existing=existing)  # failed before, back in the inbox: afresh


def _parse_error(exc: MessageError) -> Step:
    return lambda r, ctx: failed(r, ctx, PARSE_ERROR, str(exc))


def _filtered(r: Reading, ctx: Context) -> Reading | Verdict:
    reason = r.ahead.skip_reason if r.ahead else filters.skip_reason(r.message)
    return Skipped(record_of(r, SKIPPED, reason)) if reason else r


def _authenticated(r: Reading, ctx: Context) -> Reading | Verdict:
    """SPEC 11: the From must be proven before it is believed. A forward is judged by the
    forwarder's own (outer) message, a reply by its sender: both are `r.message`."""
    failure = ctx.authenticated(r.message, r.ahead)
    if failure is None:
        return r
    return failed(r.but(trace={"authserv_ids_seen": list(failure.seen_ids)}), ctx,
                  UNAUTHENTICATED_SENDER, failure.detail)


def _thread_reply(r: Reading, ctx: Context) -> Reading | Verdict:
    """Scenario `reply` (SPEC 14): mail to a thread's Reply-To joins that thread, from a team
    member, a participant of the thread or a customer user of its account."""
    msg = r.message
    addr = thread_address((a.email for a in msg.to + msg.cc), ctx.book.mailbox_address)
    if addr is None:
        return r
    member = ctx.directory.team_member(r.sender) if r.sender else None
    reply = judge(addr, r.sender, member is not None, msg.references)
    r = r.but(creator=member, trace=reply.trace, tell=reply.tell)
    if reply.failure or reply.first is None:
        return failed(r, ctx, reply.failure or UNKNOWN_THREAD, reply.detail)
    not_empty = _not_empty(r, ctx)
    if not isinstance(not_empty, Reading):
        return not_empty
    people = header_participants(msg, ctx.book, leave_out=[addr.address])
    u = Understanding(REPLY, people, (), msg.subject, None, "")
    decision = Decision(reply.first.account_id, THREAD, None, "", reply.trace)
    return logged(r.but(understanding=u), ctx, u, decision, parent_id=reply.parent_id)


def _from_team(r: Reading, ctx: Context) -> Reading | Verdict:
    member = ctx.directory.team_member(r.sender) if r.sender else None
    if member is None:
        return failed(r, ctx, UNKNOWN_SENDER,
                      f"{r.sender or 'the sender'} is not a team member or an alias of one")
    return r.but(creator=member)


def _not_empty(r: Reading, ctx: Context) -> Reading | Verdict:
    msg = r.message
    if msg.subject.strip() or msg.text.strip() or msg.attached_messages:
        return r
    return failed(r, ctx, EMPTY, "the message has no subject and no text")


def _understood(r: Reading, ctx: Context) -> Reading | Verdict:
    u = r.ahead.understanding if r.ahead else understand(r.message, ctx.book)
    r = r.but(understanding=u)
    if u.failure:
        return failed(r.but(trace={"scenario": u.scenario, "candidates": []}), ctx,
                      u.failure, u.detail)
    return r


def _resolved(r: Reading, ctx: Context) -> Reading | Verdict:
    u, creator = r.understanding, r.creator
    assert u is not None and creator is not None, "runs after _understood and _from_team"
    decision: Decision = resolve(u.candidates, creator.id, domain_of(creator.email),
                                 ctx.directory, ctx.policy, ctx.clock())
    r = r.but(trace={"scenario": u.scenario, **decision.trace})
    if decision.account_id is None or decision.rule is None:
        return failed(r, ctx, decision.reason or NO_ACCOUNT, decision.detail, decision)
    return logged(r, ctx, u, decision)


STEPS: tuple[Step, ...] = (_against_ledger, _filtered, _authenticated, _thread_reply, _from_team,
                           _not_empty, _understood, _resolved)
