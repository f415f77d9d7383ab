"""Inbound: Events and Tasks changed in Salesforce become touchpoints and tasks (SPEC 15).

Read through queryAll (deletions come too) ordered by SystemModstamp from the watermark less
LOOKBACK, one page at a time. Each page's writes and the watermark at its last record commit
together, so a run stopped anywhere resumes after its last page; the lookback re-reads a little,
and the fingerprints make re-reading (and the echo of touchlog's own writes) change nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from store.directory.lookups import SqlDirectory
from store.models import database
from sync import mapping, soql, state
from sync.context import SyncContext
from sync.local import Side, linked_accounts, local_time, side
from sync.mapping import Remote
from sync.state import Counts

# SystemModstamp is when a write started; a long transaction commits later, so a record can
# appear behind the watermark. Re-reading five minutes catches it.
LOOKBACK = timedelta(minutes=5)


def sync_in(ctx: SyncContext, kind: str) -> None:
    sf = ctx.settings.salesforce
    sobject = ctx.sobject(kind)
    name = state.mark_name(sobject, "in")
    counts = ctx.report.of(name)
    mark = state.mark(name)
    since = None if ctx.full or mark.watermark is None else mark.watermark - LOOKBACK
    this = side(kind, ctx.settings, SqlDirectory())
    query = soql.changed_since(sobject, this.fields, sf.external_id_field, since,
                               sf.inbound_filter)
    page_in = _Page(ctx, this, name, counts, linked_accounts())
    for records in ctx.client.pages(query, deleted=True):
        remotes = [mapping.remote(r, sf.external_id_field) for r in records]
        with database.atomic() as txn:
            page_in.apply(remotes)
            if remotes:
                state.move_watermark(name, max(r.modstamp for r in remotes))
            if ctx.dry_run:
                txn.rollback()
        ctx.renew()


class _Page:
    def __init__(self, ctx: SyncContext, this: Side, name: str, counts: Counts,
                 accounts: dict[str, str]) -> None:
        self.ctx, self.side, self.name, self.counts = ctx, this, name, counts
        self.accounts = accounts
        self.is_task = this.kind == state.TASK

    def apply(self, remotes: list[Remote]) -> None:
        ids = [r.id for r in remotes]
        self.links = state.links(self.side.kind, sf_ids=ids)
        self.by_external = self.side.by_external_id(ids)
        wanted = [link.local_id for link in self.links.values()]
        wanted += [int(r.local_id) for r in remotes if r.local_id.isdigit()]
        self.by_id = self.side.by_id(wanted)
        self.agreed: list[tuple[Any, Remote, str]] = []
        for r in remotes:
            self.one(r)
        self.side.link_external_ids([(row, r.id) for row, r, _ in self.agreed])
        state.save_links(self.side.kind, [(row.id, r.id, fp) for row, r, fp in self.agreed],
                         self.ctx.now)

    def local_of(self, r: Remote, account_id: str) -> Any:
        link = self.links.get(r.id)
        if link is not None and link.local_id in self.by_id:
            return self.by_id[link.local_id]
        if r.id.lower() in self.by_external:
            return self.by_external[r.id.lower()]
        # Written by touchlog, whose commit of the link was lost (a crash right after
        # Salesforce answered): the external id field names the touchpoint or task.
        row = self.by_id.get(int(r.local_id)) if r.local_id.isdigit() else None
        if row is not None and row.external_id is None and row.account_id == account_id:
            return row
        return None

    def one(self, r: Remote) -> None:
        account_id = self.accounts.get(r.account)
        if account_id is None:
            self.counts.skipped += 1
            return
        row = self.local_of(r, account_id)
        if r.deleted:
            self.deleted(row, r)
        elif not mapping.importable(r, self.is_task):
            self.counts.skipped += 1
        elif row is None:
            self.created(r, account_id)
        elif row.deleted_at is None:  # touchlog's own delete wins; outbound sends it
            self.changed(row, r)

    def deleted(self, row: Any, r: Remote) -> None:
        if row is None or row.deleted_at is not None:
            return
        self.side.tombstone(row, r)
        state.SyncLink.delete().where(state.SyncLink.kind == self.side.kind,
                                      state.SyncLink.local_id == row.id).execute()
        self.counts.deleted += 1

    def created(self, r: Remote, account_id: str) -> None:
        if not self.ctx.settings.salesforce.create_missing:
            self.counts.skipped += 1
            return
        row = self.side.create(r, account_id, self.ctx.now)
        self.agree(row, r, mapping.remote_fingerprint(r, self.is_task))
        self.counts.created += 1

    def changed(self, row: Any, r: Remote) -> None:
        theirs = mapping.remote_fingerprint(r, self.is_task)
        link = self.links.get(r.id)
        if link is not None and link.fingerprint == theirs:
            return  # nothing new there: touchlog's own write, or read again by the lookback
        ours = self.side.fingerprint(row)
        if ours == theirs:
            self.agree(row, r, theirs)
            return
        if link is None or link.fingerprint != ours:  # changed here too since the last run
            self.counts.conflicts += 1
            if r.modified_at is None or local_time(row) >= r.modified_at:
                self.ctx.decided.add((self.side.kind, row.id))
                return  # touchlog's change is the later one: outbound sends it
        self.side.apply(row, r)
        self.agree(row, r, theirs)
        self.counts.updated += 1

    def agree(self, row: Any, r: Remote, fingerprint: str) -> None:
        """Both sides hold the same now: written for the whole page at its end."""
        self.agreed.append((row, r, fingerprint))
