"""Inbound: Events and Tasks changed in Salesforce become touchpoints and tasks (SPEC 15).

Read through queryAll (deletions come too) ordered by SystemModstamp from the watermark less
LOOKBACK, one page at a time. Each page's writes and the watermark at its last record commit
together, so a run stopped anywhere resumes after its last page; the lookback re-reads a little,
and the fingerprints make re-reading (and the echo of touchlog's own writes) change nothing.

A record is known by its Id once linked. Its external id field is trusted only to recover a
link whose commit a crash lost: it must name a touchpoint or task touchlog sent as new and has
not linked yet (state.SyncSent), on the same account. Any other record naming a touchlog id is
a new record; one whose field names nothing touchlog could have written, or that is not of the
shape asked for (sync.remote), is counted under errors with the reason, and the watermark
moves past it all the same (SPEC 20).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from store.directory.lookups import SqlDirectory
from store.models import database
from sync import mapping, soql, state
from sync.context import SyncContext
from sync.local import Side, linked_accounts, local_time, side
from sync.remote import Remote, Unusable, read
from sync.state import Counts

# SystemModstamp is when a write started; a long transaction commits later, so a record can
# appear behind the watermark. Re-reading five minutes catches it.
LOOKBACK = timedelta(minutes=5)
# A record touchlog made for a row it sent was created after it was sent; allowing for the two
# clocks, one created this much earlier is someone else's, whatever its external id says.
CLOCKS = timedelta(hours=1)


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
        with database.atomic() as txn:
            state.move_watermark(name, page_in.apply(records))
            if ctx.dry_run:
                txn.rollback()
        ctx.renew()


class _Page:
    def __init__(self, ctx: SyncContext, this: Side, name: str, counts: Counts,
                 accounts: dict[str, str]) -> None:
        self.ctx, self.side, self.name, self.counts = ctx, this, name, counts
        self.accounts = accounts
        self.is_task = this.kind == state.TASK
        self.ext = ctx.settings.salesforce.external_id_field

    def apply(self, records: list[Any]) -> datetime | None:
        """One page read and applied; the latest SystemModstamp in it, records touchlog
        cannot use included (the watermark moves past them)."""
        remotes: list[Remote] = []
        stamps: list[datetime] = []
        for record in records:
            try:
                remotes.append(read(record, self.side.fields, self.ext, self.is_task,
                                    self.ctx.now))
                stamps.append(remotes[-1].modstamp)
            except Unusable as bad:
                self.unusable(bad)
                stamps += [bad.modstamp] if bad.modstamp is not None else []
        self.settle(remotes)
        return max(stamps, default=None)

    def settle(self, remotes: list[Remote]) -> None:
        # A page naming one record twice (no Salesforce cursor does) must not make it twice.
        remotes = list({r.id: r for r in remotes}.values())
        ids = [r.id for r in remotes]
        self.links = state.links(self.side.kind, sf_ids=ids)
        self.by_external = self.side.by_external_id(ids)
        self.sent = state.sent(self.side.kind, [r.claim for r in remotes if r.claim])
        self.by_id = self.side.by_id([link.local_id for link in self.links.values()]
                                     + list(self.sent))
        self.claimed: set[int] = set()
        self.agreed: list[tuple[Any, Remote, str]] = []
        for r in remotes:
            self.one(r)
        self.side.link_external_ids([(row, r.id) for row, r, _ in self.agreed])
        state.save_links(self.side.kind, [(row.id, r.id, fp) for row, r, fp in self.agreed],
                         self.ctx.now)
        # A claimed row left unlinked (its conflict went touchlog's way) keeps its mark, so
        # outbound's upsert, not a second create, settles it.
        state.forget_sent(self.side.kind, [row.id for row, _, _ in self.agreed
                                           if row.id in self.claimed])

    def local_of(self, r: Remote, account_id: str) -> Any:
        link = self.links.get(r.id)
        if link is not None and link.local_id in self.by_id:
            return self.by_id[link.local_id]
        if r.id.lower() in self.by_external:
            return self.by_external[r.id.lower()]
        return self.sent_as_new(r, account_id)

    def sent_as_new(self, r: Remote, account_id: str) -> Any:
        """The row touchlog sent as this very record, whose link a crash lost between
        Salesforce's answer and touchlog's commit; None for anyone else's record."""
        sent_at = self.sent.get(r.claim) if r.claim is not None else None
        row = self.by_id.get(r.claim) if r.claim is not None else None
        if (sent_at is None or row is None or row.external_id is not None
                or row.account_id != account_id or row.id in self.claimed
                or r.created_at is None or r.created_at < sent_at - CLOCKS):
            return None
        self.claimed.add(row.id)
        return row

    def unusable(self, bad: Unusable) -> None:
        if bad.account is not None and bad.account not in self.accounts:
            self.counts.skipped += 1  # on an unlinked account: not touchlog's to judge
            return
        self.refuse(bad.sf_id, bad.code, bad.reason)

    def refuse(self, sf_id: str | None, code: str, reason: str) -> None:
        link = state.links(self.side.kind, sf_ids=[sf_id]).get(sf_id) if sf_id else None
        self.counts.errors += 1
        state.refuse(self.ctx.run, self.name, link.local_id if link else None, sf_id, code,
                     reason)

    def one(self, r: Remote) -> None:
        account_id = self.accounts.get(r.account)
        if account_id is None:
            self.counts.skipped += 1
            return
        row = self.local_of(r, account_id)
        if r.deleted:
            self.deleted(row, r)
        elif row is None and r.bad_claim:
            self.refuse(r.id, "unusable_external_id", r.bad_claim)
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
