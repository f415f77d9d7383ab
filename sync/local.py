"""touchlog's side of the sync: touchpoints and tasks read for sending, written from Salesforce.

One `Side` per kind (touchpoint, task) with the same few operations, so outbound and inbound
are written once for both. Sealed columns (SPEC 12) are read and written through model
instances only, as store.encryption.sealed requires.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from core.settings import Settings
from store.directory.lookups import SqlDirectory
from store.models import PRIORITIES, Account, Task, TeamMember, Touchpoint, database
from sync import mapping, soql
from sync.remote import Remote
from sync.state import TASK, TOUCHPOINT

PAGE = 200  # local rows read (and records sent) at a time


def linked_accounts() -> dict[str, str]:
    """Account Id in Salesforce → touchlog account_id, for every linked account."""
    rows: Any = (Account.select(Account.account_id, Account.salesforce_id)
                 .where(Account.salesforce_id.is_null(False)).tuples())
    return {str(sf_id): str(account_id) for account_id, sf_id in rows}


def changed(model: Any, since: datetime | None) -> Iterator[list[Any]]:
    """Rows (tombstones too) created, edited or deleted from `since` on (all when None),
    PAGE at a time by id, each with its account: memory stays flat however many there are."""
    last = 0
    while True:
        condition = model.id > last
        if since is not None:
            condition &= ((model.created_at >= since) | (model.updated_at >= since)
                          | (model.deleted_at >= since))
        rows = list(model.select(model, Account).join(Account).where(condition)
                    .order_by(model.id).limit(PAGE))
        if not rows:
            return
        yield rows
        last = rows[-1].id


def local_time(row: Any) -> datetime:
    """When touchlog last changed it (SPEC 15's `updated_at`, else its creation)."""
    return row.updated_at or row.created_at


class Side:
    kind = ""
    model: Any = None
    fields: tuple[str, ...] = ()

    def __init__(self, settings: Settings, directory: SqlDirectory) -> None:
        self.settings = settings
        self.directory = directory

    def member(self, address: str) -> TeamMember | None:
        return self.directory.team_member(address) if address else None

    def by_external_id(self, ids: list[str]) -> dict[str, Any]:
        lower = [i.lower() for i in ids]
        return {row.external_id: row for row in
                self.model.select().where(self.model.external_id.in_(lower))}

    def by_id(self, ids: list[int]) -> dict[int, Any]:
        return {row.id: row for row in self.model.select().where(self.model.id.in_(ids))}

    def tombstone(self, row: Any, r: Remote) -> None:
        row.deleted_at, row.deleted_by = r.modstamp, r.modified_by or "salesforce"
        row.save()

    def link_external_ids(self, pairs: list[tuple[Any, str]]) -> None:
        """Each row's external_id = its Salesforce Id in lower case (SPEC 13), one prepared
        statement for the page; `updated_at` stays: linking is not a change."""
        changes = [(sf_id.lower(), row.id) for row, sf_id in pairs
                   if row.external_id != sf_id.lower()]
        if not changes:
            return
        table, mark = self.model._meta.table_name, database.param
        database.cursor().executemany(
            f'UPDATE "{table}" SET "external_id" = {mark} WHERE "id" = {mark}', changes)
        for row, sf_id in pairs:
            row.external_id = sf_id.lower()

    # --- per kind -----------------------------------------------------------------------------

    def fingerprint(self, row: Any) -> str:
        raise NotImplementedError

    def addresses(self, row: Any) -> tuple[set[str], set[str]]:
        """(team addresses that may own the record, customer addresses that may be its WhoId)."""
        raise NotImplementedError

    def record(self, row: Any, creating: bool, users: Mapping[str, str],
               contacts: Mapping[str, str]) -> dict[str, Any]:
        raise NotImplementedError

    def create(self, r: Remote, account_id: str, now: datetime) -> Any:
        raise NotImplementedError

    def apply(self, row: Any, r: Remote) -> None:
        raise NotImplementedError


class TouchpointSide(Side):
    kind = TOUCHPOINT
    model = Touchpoint
    fields = soql.EVENT_FIELDS

    def fingerprint(self, row: Any) -> str:
        return mapping.touchpoint_fingerprint(row.subject, row.content, row.occurred_at)

    def addresses(self, row: Any) -> tuple[set[str], set[str]]:
        external = {p["email"].lower() for p in row.participants or ()
                    if p.get("role") == "external" and p.get("email")}
        return {row.creator_email.lower()} - {""}, external

    def record(self, row: Any, creating: bool, users: Mapping[str, str],
               contacts: Mapping[str, str]) -> dict[str, Any]:
        external = tuple(p["email"] for p in row.participants or ()
                         if p.get("role") == "external" and p.get("email"))
        local = mapping.LocalTouchpoint(row.id, row.account.salesforce_id or "", row.subject,
                                        row.content, row.occurred_at, row.creator_email,
                                        external)
        return mapping.event_record(local, self.settings.salesforce.external_id_field, users,
                                    contacts, creating)

    def create(self, r: Remote, account_id: str, now: datetime) -> Touchpoint:
        tp = self.settings.touchpoints
        member = self.member(r.created_by)
        row = Touchpoint(
            account=account_id, flow=tp.default_flow, reasons=list(tp.default_reasons),
            occurred_at=r.occurred_at or r.created_at or now, subject=r.subject,
            content=r.content, creator=member, creator_email=r.created_by,
            creator_domain=r.created_by.rpartition("@")[2], participants=[], attachments=[],
            source="salesforce", updated_at=r.modified_at, updated_by=r.modified_by or None,
            external_id=r.id.lower(), created_at=now)
        row.save()
        return row

    def apply(self, row: Any, r: Remote) -> None:
        row.subject, row.content = r.subject, r.content
        row.occurred_at = r.occurred_at or row.occurred_at
        row.updated_at, row.updated_by = r.modified_at, r.modified_by or None
        row.save()


class TaskSide(Side):
    kind = TASK
    model = Task
    fields = soql.TASK_FIELDS

    def fingerprint(self, row: Any) -> str:
        return mapping.task_fingerprint(row.title, row.description, row.priority, row.status,
                                        row.due_date)

    def addresses(self, row: Any) -> tuple[set[str], set[str]]:
        return {row.assignee_email.lower()} - {""}, set()

    def record(self, row: Any, creating: bool, users: Mapping[str, str],
               contacts: Mapping[str, str]) -> dict[str, Any]:
        local = mapping.LocalTask(row.id, row.account.salesforce_id or "", row.title,
                                  row.description, row.priority, row.status, row.due_date,
                                  row.assignee_email)
        return mapping.task_record(local, self.settings.salesforce.external_id_field, users,
                                   creating)

    def create(self, r: Remote, account_id: str, now: datetime) -> Task:
        row = Task(account=account_id, title=r.subject, description=r.content,
                   assignee=self.member(r.owner), assignee_email=r.owner,
                   assigner=self.member(r.created_by), assigner_email=r.created_by,
                   created_at=r.created_at or now, external_id=r.id.lower())
        self._fill(row, r)
        return row

    def apply(self, row: Any, r: Remote) -> None:
        member = self.member(r.owner)
        if member is not None:  # an owner who is no team member leaves the assignee be
            row.assignee, row.assignee_email = member, r.owner
        self._fill(row, r)

    def _fill(self, row: Task, r: Remote) -> None:
        was_open = row.status != "Completed"
        row.title, row.description = r.subject, r.content
        row.priority = r.priority if r.priority in PRIORITIES else "Normal"
        row.status, row.due_date = r.status, r.due_date
        row.updated_at, row.updated_by = r.modified_at, r.modified_by or None
        if r.status == "Completed" and (was_open or row.completed_at is None):
            row.completed_at = r.modified_at
        row.save()


def side(kind: str, settings: Settings, directory: SqlDirectory) -> Side:
    return (TaskSide if kind == TASK else TouchpointSide)(settings, directory)
