"""What the sync keeps between runs: links to records, watermarks, runs and refused records.

Its own tables, created when a sync command first opens the database. A watermark row moves in
the same transaction as the writes it covers, so a run stopped anywhere resumes from its last
commit; a link's fingerprint is what both sides last agreed on (sync.mapping).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from peewee import AutoField, DateTimeField, ForeignKeyField, IntegerField, TextField

from core.utc import iso_utc, utcnow
from store.encryption.sealed import SealedMixin, SealedTextField
from store.models import BaseModel, CharField, JSONField, database

TOUCHPOINT = "touchpoint"
TASK = "task"
DIRECTIONS = ("in", "out")
# The counts of a run, per object and direction, in the order `sync status` and /runs show them.
COUNTS = ("created", "updated", "deleted", "skipped", "conflicts", "errors")


class SyncLink(BaseModel):
    """A touchpoint or task and the Salesforce record it is synced with."""

    kind = CharField()  # touchpoint | task
    local_id = IntegerField()
    sf_id = CharField()  # as Salesforce writes it (18 characters)
    fingerprint = CharField()  # of the shared fields as both sides last held them
    synced_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "sync_link"
        indexes = ((("kind", "local_id"), True), (("kind", "sf_id"), True))


class SyncSent(BaseModel):
    """A touchpoint or task sent to Salesforce as a new record, kept until its link commits.

    Committed before the request goes out, so it survives a crash between Salesforce's answer
    and touchlog's commit: then, and only then, a record whose external id field names it may
    be touchlog's own (SPEC 20). Any other record naming a touchlog id is a new record."""

    kind = CharField()
    local_id = IntegerField()
    sent_at = DateTimeField()

    class Meta:
        table_name = "sync_sent"
        indexes = ((("kind", "local_id"), True),)


class SyncMark(BaseModel):
    """One object and direction ("Event in"): its watermark and its last run's counts."""

    name = CharField(primary_key=True)
    watermark = DateTimeField(null=True)
    last_run_at = DateTimeField(null=True)
    last_status = CharField(default="")
    counts = JSONField(default=dict)

    class Meta:
        table_name = "sync_mark"


class SyncRun(BaseModel):
    id = AutoField()
    started_at = DateTimeField(default=utcnow)
    finished_at = DateTimeField(null=True)
    direction = CharField()
    full = IntegerField(default=0)
    status = CharField(default="running")  # running | done | error
    counts = JSONField(default=dict)  # {"Event in": {"created": 1, ...}, ...}
    error = TextField(default="")
    requests = IntegerField(default=0)

    class Meta:
        table_name = "sync_run"


class SyncError(SealedMixin, BaseModel):
    """A record Salesforce (or touchlog) refused, with Salesforce's code and message (sealed
    when encryption is on: Salesforce quotes the refused value, e.g. in STRING_TOO_LONG)."""

    id = AutoField()
    run = ForeignKeyField(SyncRun, backref="refusals", on_delete="CASCADE")
    mark = CharField()  # "Event out"
    local_id = IntegerField(null=True)
    sf_id = CharField(null=True)
    code = CharField()
    message = SealedTextField()
    at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "sync_error"


SYNC_MODELS = [SyncLink, SyncSent, SyncMark, SyncRun, SyncError]


def ensure_tables() -> None:
    database.create_tables(SYNC_MODELS, safe=True)


def mark_name(sobject: str, direction: str) -> str:
    return f"{sobject} {direction}"


def mark(name: str) -> SyncMark:
    found = SyncMark.get_or_none(SyncMark.name == name)
    return found if found is not None else SyncMark(name=name)


def move_watermark(name: str, watermark: datetime | None) -> None:
    """Inside the transaction that committed what the watermark covers."""
    if watermark is None:
        return
    (SyncMark.insert(name=name, watermark=watermark)
     .on_conflict(conflict_target=[SyncMark.name], preserve=[SyncMark.watermark]).execute())


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    skipped: int = 0
    conflicts: int = 0
    errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)

    def summary(self) -> str:
        return ", ".join(f"{k} {v}" for k, v in self.__dict__.items())


def links(kind: str, *, local_ids: list[int] | None = None,
          sf_ids: list[str] | None = None) -> dict[Any, SyncLink]:
    """Links by local id or by Salesforce Id, for one page of records."""
    column = SyncLink.local_id if local_ids is not None else SyncLink.sf_id
    keys: list[Any] = list(local_ids if local_ids is not None else sf_ids or [])
    found: dict[Any, SyncLink] = {}
    for i in range(0, len(keys), 500):
        for link in SyncLink.select().where(SyncLink.kind == kind,
                                            column.in_(keys[i:i + 500])):
            found[link.local_id if local_ids is not None else link.sf_id] = link
    return found


def save_links(kind: str, agreed: list[tuple[int, str, str]], now: datetime) -> None:
    """(local id, Salesforce Id, fingerprint) of one page, in one statement per 500."""
    rows = [(kind, local_id, sf_id, fp, now) for local_id, sf_id, fp in agreed]
    fields = [SyncLink.kind, SyncLink.local_id, SyncLink.sf_id, SyncLink.fingerprint,
              SyncLink.synced_at]
    for i in range(0, len(rows), 500):
        (SyncLink.insert_many(rows[i:i + 500], fields=fields)
         .on_conflict(conflict_target=[SyncLink.kind, SyncLink.local_id],
                      preserve=[SyncLink.sf_id, SyncLink.fingerprint, SyncLink.synced_at])
         .execute())


def sent(kind: str, local_ids: list[int]) -> dict[int, datetime]:
    """Which of these were sent as new records and are not linked yet, and since when."""
    found: dict[int, datetime] = {}
    for i in range(0, len(local_ids), 500):
        for row in SyncSent.select().where(SyncSent.kind == kind,
                                           SyncSent.local_id.in_(local_ids[i:i + 500])):
            found[row.local_id] = row.sent_at
    return found


def mark_sent(kind: str, local_ids: list[int], now: datetime) -> None:
    """In a transaction of its own, committed before the request that creates the records."""
    rows = [(kind, local_id, now) for local_id in local_ids]
    for i in range(0, len(rows), 500):
        (SyncSent.insert_many(rows[i:i + 500],
                              fields=[SyncSent.kind, SyncSent.local_id, SyncSent.sent_at])
         .on_conflict_ignore().execute())


def forget_sent(kind: str, local_ids: list[int]) -> None:
    """With the links that settle them: a linked record is known by its Id from then on."""
    for i in range(0, len(local_ids), 500):
        SyncSent.delete().where(SyncSent.kind == kind,
                                SyncSent.local_id.in_(local_ids[i:i + 500])).execute()


def start_run(direction: str, full: bool, now: datetime) -> SyncRun:
    return SyncRun.create(direction=direction, full=int(full), started_at=now)


def finish_run(run: SyncRun, counts: dict[str, Counts], status: str, error: str,
               requests: int, now: datetime) -> None:
    with database.atomic():
        run.counts = {name: c.as_dict() for name, c in counts.items()}
        run.status, run.error, run.requests, run.finished_at = status, error, requests, now
        run.save()
        for name, c in counts.items():
            (SyncMark.insert(name=name, last_run_at=now, last_status=status,
                             counts=c.as_dict())
             .on_conflict(conflict_target=[SyncMark.name],
                          preserve=[SyncMark.last_run_at, SyncMark.last_status,
                                    SyncMark.counts]).execute())


def refuse(run: SyncRun | None, name: str, local_id: int | None, sf_id: str | None, code: str,
           message: str) -> None:
    """Keep a refused record for `sync status` (not in a dry run: no run row)."""
    if run is not None:
        SyncError.create(run=run, mark=name, local_id=local_id, sf_id=sf_id, code=code,
                         message=message[:2000])


def last_run() -> SyncRun | None:
    return SyncRun.select().order_by(SyncRun.id.desc()).first()


def marks() -> list[SyncMark]:
    return list(SyncMark.select().order_by(SyncMark.name))


def refusals(run: SyncRun, limit: int = 50) -> list[SyncError]:
    return list(SyncError.select().where(SyncError.run == run).order_by(SyncError.id)
                .limit(limit))


def last_run_covering(direction: str) -> SyncRun | None:
    """The newest run that went this way (`in`, `out`, or `both`)."""
    return (SyncRun.select().where(SyncRun.direction.in_([direction, "both"]))
            .order_by(SyncRun.id.desc()).first())


def status_rows(objects: tuple[str, ...]) -> list[dict[str, Any]]:
    """`touchlog sync status`: one row per object and direction, SPEC 15's watermark, last
    run, counts and errors (the records Salesforce refused in that run)."""
    watermarks = {m.name: m.watermark for m in marks()}
    rows = []
    for direction in DIRECTIONS:
        run = last_run_covering(direction)
        refused = refusals(run, limit=1000) if run else []
        for sobject in objects:
            name = mark_name(sobject, direction)
            rows.append({
                "object": sobject, "direction": direction,
                "watermark": iso_utc(watermarks.get(name)),
                "last_run": iso_utc(run.started_at) if run else None,
                "status": run.status if run else None,
                "stopped": (run.error or None) if run else None,
                "requests": run.requests if run else 0,
                "counts": (run.counts or {}).get(name, {}) if run else {},
                "errors": [{"local_id": e.local_id, "salesforce_id": e.sf_id, "code": e.code,
                            "message": e.message} for e in refused if e.mark == name],
            })
    return rows


def errors_by_mark() -> dict[str, int]:
    """The records refused in each object and direction's last run ("Event in" → 2), for
    `/metrics`; nothing before the first sync made the tables."""
    if not SyncMark.table_exists():
        return {}
    return {m.name: int((m.counts or {}).get("errors", 0)) for m in marks()}
