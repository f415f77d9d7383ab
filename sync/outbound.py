"""Outbound: touchpoints and tasks of linked accounts become Events and Tasks (SPEC 15).

Rows changed since the last run (within `outbound_days`; all with --full) are read 200 at a
time and sent in one sObject Collections request per kind of write:
- not linked yet: upserted on the external id field (SPEC 15), once a note that they are being
  sent is committed (state.SyncSent): a crash between Salesforce's answer and our commit
  makes no second record, and only what touchlog itself upserted may later be matched by
  that id inbound (SPEC 20);
- synced and changed: update by Id (WhatId left alone), after one query that shows whether
  Salesforce changed or deleted them too (a conflict: the later change wins);
- deleted in touchlog: delete by Id (already gone counts as done).
Links, external ids and refusals of a batch commit together; the watermark moves once all did.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from core.salesforce_ids import is_id18
from store.directory.lookups import SqlDirectory
from store.models import database
from sync import mapping, soql, state
from sync.client import UNUSABLE, Result
from sync.context import SyncContext
from sync.local import Side, changed, local_time, side
from sync.remote import Remote, Unusable, read
from sync.state import Counts, SyncLink

LOOKBACK = timedelta(minutes=5)  # a change committed while the last run read is sent again
GONE = ("ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY")


def sync_out(ctx: SyncContext, kind: str) -> None:
    this = side(kind, ctx.settings, SqlDirectory())
    name = state.mark_name(ctx.sobject(kind), "out")
    since = _since(ctx, state.mark(name).watermark)
    users, contacts = _people(ctx, this, since)
    batch = _Batch(ctx, this, name, ctx.report.of(name), users, contacts)
    for rows in changed(this.model, since):
        batch.send(rows)
        ctx.renew()
    if not ctx.dry_run:
        with database.atomic():
            state.move_watermark(name, ctx.now)


def _since(ctx: SyncContext, watermark: datetime | None) -> datetime | None:
    if ctx.full:
        return None
    floor = ctx.now - timedelta(days=ctx.settings.salesforce.outbound_days)
    return floor if watermark is None else max(floor, watermark - LOOKBACK)


def _people(ctx: SyncContext, this: Side, since: datetime | None
            ) -> tuple[dict[str, str], dict[str, str]]:
    """Salesforce Users (OwnerId) and Contacts (WhoId) by address, for every row to send:
    one query per 200 addresses, not one per batch."""
    owners: set[str] = set()
    customers: set[str] = set()
    for rows in changed(this.model, since):
        for row in rows:
            if row.account.salesforce_id and row.deleted_at is None:
                team, external = this.addresses(row)
                owners |= team
                customers |= external
    users = _lookup(ctx, soql.users_by_email, owners)
    contacts = _lookup(ctx, soql.contacts_by_email, customers)
    return users, contacts


def _lookup(ctx: SyncContext, query: Any, addresses: set[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    ordered = sorted(addresses)
    for i in range(0, len(ordered), soql.MAX_IN):
        for record in ctx.client.records(query(ordered[i:i + soql.MAX_IN])):
            sf_id = record.get("Id") if isinstance(record, dict) else None
            email = record.get("Email") if isinstance(record, dict) else None
            if isinstance(sf_id, str) and is_id18(sf_id) and isinstance(email, str):
                found.setdefault(email.lower(), sf_id)  # anything else: nobody to name
    return found


class _Batch:
    def __init__(self, ctx: SyncContext, this: Side, name: str, counts: Counts,
                 users: dict[str, str], contacts: dict[str, str]) -> None:
        self.ctx, self.side, self.name, self.counts = ctx, this, name, counts
        self.users, self.contacts = users, contacts
        self.sobject = ctx.sobject(this.kind)
        self.ext = ctx.settings.salesforce.external_id_field

    def send(self, rows: list[Any]) -> None:
        links = state.links(self.side.kind, local_ids=[row.id for row in rows])
        creates: list[tuple[Any, str]] = []
        updates: list[tuple[Any, SyncLink, str]] = []
        deletes: list[tuple[Any, SyncLink]] = []
        for row in rows:
            link = links.get(row.id)
            if not row.account.salesforce_id:
                self.counts.skipped += 1
            elif row.deleted_at is not None:
                if link is not None:
                    deletes.append((row, link))
            elif link is None:
                self._create_or_skip(creates, row)
            elif (fingerprint := self.side.fingerprint(row)) != link.fingerprint:
                updates.append((row, link, fingerprint))
        updates = self._without_lost_conflicts(updates)
        if self.ctx.dry_run:
            self.counts.created += len(creates)
            self.counts.updated += len(updates)
            self.counts.deleted += len(deletes)
            return
        self._write(creates, updates, deletes)

    def _create_or_skip(self, creates: list[tuple[Any, str]], row: Any) -> None:
        if self.ctx.settings.salesforce.create_missing:
            creates.append((row, self.side.fingerprint(row)))
        else:
            self.counts.skipped += 1

    def _without_lost_conflicts(self, updates: list[tuple[Any, SyncLink, str]]
                                ) -> list[tuple[Any, SyncLink, str]]:
        """Drops the updates whose record Salesforce deleted, or changed later than touchlog
        did (the next inbound run imports those), or holds in a shape touchlog cannot read;
        counts the conflicts."""
        if not updates:
            return []
        now = self._current([link.sf_id for _, link, _ in updates])
        keep = []
        for row, link, fingerprint in updates:
            r = now.get(link.sf_id)
            if isinstance(r, Unusable):
                self._refuse(row, link.sf_id, r.code, r.reason)
                continue
            if r is None or r.deleted:
                continue
            theirs = mapping.remote_fingerprint(r, self.side.kind == state.TASK)
            if theirs != link.fingerprint and (self.side.kind, row.id) not in self.ctx.decided:
                self.counts.conflicts += 1
                if r.modified_at is not None and r.modified_at > local_time(row):
                    continue
            keep.append((row, link, fingerprint))
        return keep

    def _current(self, sf_ids: list[str]) -> dict[str, Remote | Unusable]:
        """How Salesforce holds these records now (deleted ones too), each as read or as
        unusable."""
        query = soql.current(self.sobject, self.side.fields, self.ext, sf_ids)
        now: dict[str, Remote | Unusable] = {}
        for record in self.ctx.client.records(query, deleted=True):
            try:
                remote = read(record, self.side.fields, self.ext, self.side.kind == state.TASK,
                              self.ctx.now)
                now[remote.id] = remote
            except Unusable as bad:
                now.update({bad.sf_id: bad} if bad.sf_id else {})
        return now

    def _write(self, creates: list[tuple[Any, str]], updates: list[tuple[Any, SyncLink, str]],
               deletes: list[tuple[Any, SyncLink]]) -> None:
        client = self.ctx.client
        sent = self._create(creates)
        changed_ = client.update(self.sobject, [
            {"id": link.sf_id, **self.side.record(row, False, self.users, self.contacts)}
            for row, link, _ in updates]) if updates else []
        gone = client.delete([link.sf_id for _, link in deletes]) if deletes else []
        sent += [(row, fp, result, False)
                 for (row, _, fp), result in zip(updates, changed_, strict=True)]
        with database.atomic():
            self._sent(sent)
            for (row, link), result in zip(deletes, gone, strict=True):
                self._deleted(row, link, result)

    def _create(self, creates: list[tuple[Any, str]]) -> list[tuple[Any, str, Result, bool]]:
        """Rows not linked yet are upserted on the external id field, their sending committed
        first, so a retry after a lost answer updates the record that attempt made."""
        if not creates:
            return []
        with database.atomic():  # a row sent before keeps its first time (on conflict ignore)
            state.mark_sent(self.side.kind, [row.id for row, _ in creates], self.ctx.now)
        records = [self.side.record(row, True, self.users, self.contacts) for row, _ in creates]
        found = self.ctx.client.upsert(self.sobject, self.ext, records)
        return [(row, fp, result, result.created)
                for (row, fp), result in zip(creates, found, strict=True)]

    def _sent(self, sent: list[tuple[Any, str, Result, bool]]) -> None:
        taken = state.links(self.side.kind, sf_ids=[result.id for _, _, result, _ in sent
                                                    if result.success and result.id])
        agreed, unmade = [], []
        for row, fingerprint, result, created in sent:
            if not result.success or not result.id:
                self._refuse(row, None, result.code(), result.message(), result.id)
                if result.code() != UNUSABLE:  # a refused upsert made nothing
                    unmade.append(row.id)
                continue
            other = taken.get(result.id)
            if other is not None and other.local_id != row.id:
                self._refuse(row, result.id, "already_linked", f"Salesforce answered with "
                             f"{result.id}, linked to {self.side.kind} {other.local_id}")
                continue
            agreed.append((row, result.id, fingerprint))
            if created:
                self.counts.created += 1
            else:
                self.counts.updated += 1
        self.side.link_external_ids([(row, sf_id) for row, sf_id, _ in agreed])
        state.save_links(self.side.kind, [(row.id, sf_id, fp) for row, sf_id, fp in agreed],
                         self.ctx.now)
        state.forget_sent(self.side.kind, [row.id for row, _, _ in agreed] + unmade)

    def _deleted(self, row: Any, link: SyncLink, result: Result) -> None:
        if not result.success and result.code() not in GONE:
            self._refuse(row, link.sf_id, result.code(), result.message())
            return
        link.delete_instance()
        self.counts.deleted += 1

    def _refuse(self, row: Any, sf_id: str | None, code: str, message: str,
                answered: str | None = None) -> None:
        self.counts.errors += 1
        state.refuse(self.ctx.run, self.name, row.id, sf_id or answered, code, message)
