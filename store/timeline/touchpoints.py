"""Writing touchpoints, keeping attachment bytes once per hash, and reading the timeline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from peewee import OP, Expression

from core.utc import iso_utc
from store import compiled
from store.encryption.keyring import is_sealed
from store.encryption.sealed import SEALING
from store.models import INTERNAL_NOTE, Touchpoint, TouchpointMail
from store.timeline.attachments import find_attachment, write_attachment

# A References header can list dozens of ids; the newest (last) ones are where a parent is.
_MAX_REFERENCES = 100


@dataclass(frozen=True)
class NewTouchpoint:
    account_id: str
    flow: str
    reasons: tuple[str, ...]
    occurred_at: datetime  # naive UTC
    subject: str
    content: str
    creator_id: int | None  # None: a creator who is no team member (a customer's reply)
    creator_email: str
    creator_domain: str
    participants: tuple[dict[str, str], ...]
    attachments: tuple[dict[str, Any], ...]
    message_key: str
    message_id: str
    mailbox: str
    uid: int | None
    scenario: str | None
    rule: str
    trace: dict[str, Any]
    references: tuple[str, ...] = ()
    # A reply to a thread (SPEC 14) names its parent; otherwise it is found from `references`.
    parent_id: int | None = None
    written_message_id: str = ""  # as the mail wrote it; `message_id` is normalized


def keep_attachment(directory: Path, sha256: str, data: bytes) -> Path:
    """Store the bytes once under their hash; written before the database commit, so a crash
    leaves at most an unreferenced file, never a touchpoint pointing at nothing."""
    return write_attachment(directory, sha256, data, SEALING.ring)


def kept_files(tp: Touchpoint, directory: Path) -> list[tuple[dict[str, Any], Path | None]]:
    """Each attachment of `tp` with where its bytes are kept (None: no longer kept).

    With encryption on, what names a file is sealed with its row (SPEC 20). A list still in
    clear was written before the key was set, or by someone without it: it may name only files
    kept in clear (from before the key), never one kept under a keyed hash, so a database writer
    cannot point a touchpoint at another kept file. `touchlog keys rotate` seals both."""
    if not tp.attachments:  # most mailed copies: no row to ask whether its list is sealed
        return []
    ring = SEALING.ring
    clear = ring is not None and not _attachments_sealed(tp)
    return [(att, find_attachment(directory, att["sha256"], None if clear else ring))
            for att in tp.attachments]


def _attachments_sealed(tp: Touchpoint) -> bool:
    if is_sealed(tp.__data__.get("attachments")):
        return True
    # An instance this process just wrote holds the plain list: ask the row.
    stored = (Touchpoint.select(Touchpoint.attachments).where(Touchpoint.id == tp.id)
              .tuples().first())
    return stored is not None and is_sealed(stored[0])


def thread_parent(account_id: str, references: Sequence[str]) -> Touchpoint | None:
    """The latest earlier touchpoint on the same account whose message this one replies to."""
    ids = list(dict.fromkeys(ref for ref in references if ref))[-_MAX_REFERENCES:]
    if not ids:
        return None
    markers = {f":ref{i}": ref for i, ref in enumerate(ids)}
    # On the (message_id, account) index: a few index probes, however long the account's
    # history (ordering by account first made SQLite walk every touchpoint of the account).
    rows = compiled.run(("thread_parent", len(ids)), lambda: (
        Touchpoint.select(Touchpoint.id, Touchpoint.thread_id)
        .where(Touchpoint.message_id.in_(list(markers)), Touchpoint.account == ":account",
               Touchpoint.deleted_at.is_null())
        .order_by(Touchpoint.created_at.desc(), Touchpoint.id.desc()).limit(1)),
        {**markers, ":account": account_id})
    if not rows:
        return None
    (tp_id, thread_id), = rows
    return Touchpoint(id=tp_id, thread_id=thread_id)


def create_touchpoint(new: NewTouchpoint) -> Touchpoint:
    """Insert one touchpoint (inside the caller's transaction), threaded when it is a reply."""
    parent = (Touchpoint.get_by_id(new.parent_id) if new.parent_id is not None
              else thread_parent(new.account_id, new.references))
    tp = compiled.insert(
        Touchpoint, account=new.account_id, type="email", flow=new.flow,
        reasons=list(new.reasons),
        occurred_at=new.occurred_at, subject=new.subject, content=new.content,
        creator=new.creator_id, creator_email=new.creator_email.lower(),
        creator_domain=new.creator_domain, source="email",
        participants=list(new.participants), attachments=list(new.attachments),
        message_key=new.message_key, message_id=new.message_id or None,
        written_message_id=new.written_message_id or new.message_id or None, mailbox=new.mailbox,
        uid=new.uid, scenario=new.scenario, rule=new.rule, trace=new.trace,
        parent=parent.id if parent else None,
        # A thread is named by its first touchpoint, whose own row leaves it empty (see
        # thread_of); a reply joins its parent's thread.
        thread_id=thread_of(parent) if parent else None,
    )
    return tp


def thread_of(tp: Touchpoint) -> int:
    return tp.thread_id or tp.id


@dataclass(frozen=True)
class Filter:
    """What the timeline shows (SPEC 18); every field narrows it, None does not."""

    account_id: str | None = None
    type: str | None = None
    flow: str | None = None
    notes: bool | None = None  # True: internal notes only; False: none
    since: datetime | None = None  # naive UTC, inclusive
    until: datetime | None = None  # naive UTC, inclusive
    limit: int | None = None
    # Keyset paging (the web's timeline): only rows older than (occurred_at, id) `before`, or
    # newer than `after` (those come oldest first). Any page reads the index from its place,
    # never the rows before it, so page 200 costs what page 1 does.
    before: tuple[datetime, int] | None = None
    after: tuple[datetime, int] | None = None
    # Replies folded (the web): a reply whose thread's first touchpoint is live and shown by
    # this same filter is left out here and shown under it (store.timeline.pages).
    fold: bool = False


def timeline(account_id: str | None = None, limit: int | None = None,
             where: Filter | None = None) -> list[Touchpoint]:
    """Newest first (by when it happened, then by id for a stable order), live rows only: the
    order is the one of the indexes on (account, occurred_at, id) and (account, type,
    occurred_at, id), so the first page reads the index, never the whole account."""
    return list(timeline_query(where or Filter(account_id=account_id, limit=limit)))


def timeline_query(f: Filter) -> Any:
    """The timeline's statement (its plan is checked in tests/test_schema.py)."""
    query = Touchpoint.select().where(*shown_by(Touchpoint, f))
    if f.after is not None:
        query = query.where(*_beyond(f.after, newer=True)).order_by(
            Touchpoint.occurred_at, Touchpoint.id)
    else:
        query = query.order_by(Touchpoint.occurred_at.desc(), Touchpoint.id.desc())
    if f.before is not None:
        query = query.where(*_beyond(f.before, newer=False))
    if f.fold:
        # A scalar subquery (at most one row: the first's primary key), not NOT EXISTS: inside
        # an OR, PostgreSQL may hash a NOT EXISTS over every row of the account before the
        # first row of the page; a scalar one it asks for the rows the page reads, as SQLite.
        first = Touchpoint.alias("first")
        listed = first.select(first.id).where(first.id == Touchpoint.thread_id,
                                              *shown_by(first, f))
        query = query.where(Touchpoint.thread_id.is_null()
                            | (Touchpoint.thread_id == Touchpoint.id)
                            | Expression(listed, OP.IS, None))
    if f.limit is not None:
        query = query.limit(f.limit)
    return query


def shown_by(model: Any, f: Filter) -> list[Any]:
    """The conditions a live row of `model` (Touchpoint or an alias of it) meets to be shown."""
    conditions = [model.deleted_at.is_null()]
    if f.account_id is not None:
        conditions.append(model.account == f.account_id)
    if f.type is not None:
        conditions.append(model.type == f.type)
    if f.notes is not None:
        conditions.append(model.type == INTERNAL_NOTE if f.notes else model.type != INTERNAL_NOTE)
    if f.flow is not None:
        conditions.append(model.flow == f.flow)
    if f.since is not None:
        conditions.append(model.occurred_at >= f.since)
    if f.until is not None:
        conditions.append(model.occurred_at <= f.until)
    return conditions


def _beyond(cursor: tuple[datetime, int], newer: bool) -> list[Any]:
    """Rows past (occurred_at, id) in timeline order, written as a range on occurred_at (which
    the index serves) and the tie on id, rather than a row value, so both databases convert
    the time as they do for the column."""
    at, tp_id = cursor
    if newer:
        return [Touchpoint.occurred_at >= at,
                (Touchpoint.occurred_at > at) | (Touchpoint.id > tp_id)]
    return [Touchpoint.occurred_at <= at, (Touchpoint.occurred_at < at) | (Touchpoint.id < tp_id)]


def replies_of(tp: Touchpoint) -> list[Touchpoint]:
    """The live touchpoints whose parent is `tp`, oldest first."""
    return list(Touchpoint.select().where(Touchpoint.parent == tp.id,
                                          Touchpoint.deleted_at.is_null())
                .order_by(Touchpoint.occurred_at, Touchpoint.id))


def as_json(tp: Touchpoint) -> dict[str, Any]:
    """The stable JSON shape of SPEC sections 10 and 18."""
    return {
        "id": tp.id,
        "account_id": tp.account_id,
        "type": tp.type,
        "flow": tp.flow,
        "reasons": tp.reasons,
        "occurred_at": iso_utc(tp.occurred_at),
        "subject": tp.subject,
        "content": tp.content,
        "creator": tp.creator_email,
        "participants": tp.participants,
        "attachments": tp.attachments,
        "message_id": tp.written_message_id or tp.message_id,
        "scenario": tp.scenario,
        "rule": tp.rule,
        "thread_id": thread_of(tp),
        "source": tp.source,
        "updated_at": iso_utc(tp.updated_at),
        "updated_by": tp.updated_by,
        "external_id": tp.external_id,
    }




def details(tp: Touchpoint) -> dict[str, Any]:
    """`touchpoints show`: the JSON shape and the tombstone, the parent, the replies and the
    copies mailed of it."""
    mails = TouchpointMail.select().where(TouchpointMail.touchpoint == tp.id).order_by(
        TouchpointMail.id)
    return {**as_json(tp), "deleted_at": iso_utc(tp.deleted_at), "deleted_by": tp.deleted_by,
            "parent_id": tp.parent_id,
            "replies": [{"id": r.id, "occurred_at": iso_utc(r.occurred_at),
                         "creator": r.creator_email, "subject": r.subject}
                        for r in replies_of(tp)],
            "sent": [{"sent_at": iso_utc(m.sent_at), "audience": m.audience,
                      "recipients": m.recipients, "sent_by": m.sent_by} for m in mails]}
