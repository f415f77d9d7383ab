"""The default mapping of SPEC 15, both ways, as pure functions over plain values.

Outbound, a touchpoint becomes an Event and a task a Task; inbound, a record read by the
queries of sync.soql (and checked by sync.remote) becomes the fields touchlog stores. A
*fingerprint* of the fields both sides hold (as Salesforce will hold them: cut to its lengths,
times to the second) tells a real change from the echo of touchlog's own write, on either side.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sync.remote import Remote

SUBJECT_MAX = 255
DESCRIPTION_MAX = 32_000
# touchlog's statuses (SPEC 13) against Salesforce's default Task picklist; any closed
# Salesforce status reads back as Completed.
STATUS_OUT = {"Open": "Not Started", "Completed": "Completed"}


@dataclass(frozen=True)
class LocalTouchpoint:
    id: int
    what_id: str  # the account's salesforce_id
    subject: str
    content: str
    occurred_at: datetime  # naive UTC
    creator: str  # address
    external: tuple[str, ...]  # the external participants' addresses


@dataclass(frozen=True)
class LocalTask:
    id: int
    what_id: str
    title: str
    description: str
    priority: str
    status: str  # Open | Completed
    due_date: date | None
    assignee: str  # address, "" when nobody


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit]


def sf_datetime(when: datetime) -> str:
    """Naive UTC → Salesforce's form, to the second (Salesforce keeps milliseconds)."""
    return when.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- fingerprints ------------------------------------------------------------------------------


def _digest(values: list[Any]) -> str:
    return hashlib.sha256(json.dumps(values, ensure_ascii=False).encode()).hexdigest()[:32]


def touchpoint_fingerprint(subject: str, content: str, occurred_at: datetime | None) -> str:
    when = occurred_at.replace(microsecond=0).isoformat() if occurred_at else ""
    return _digest([clip(subject, SUBJECT_MAX), clip(content, DESCRIPTION_MAX), when])


def task_fingerprint(title: str, description: str, priority: str, status: str,
                     due_date: date | None) -> str:
    return _digest([clip(title, SUBJECT_MAX), clip(description, DESCRIPTION_MAX), priority,
                    status, due_date.isoformat() if due_date else ""])


def remote_fingerprint(remote: Remote, is_task: bool) -> str:
    if is_task:
        return task_fingerprint(remote.subject, remote.content, remote.priority, remote.status,
                                remote.due_date)
    return touchpoint_fingerprint(remote.subject, remote.content, remote.occurred_at)


# --- outbound ----------------------------------------------------------------------------------


def event_record(tp: LocalTouchpoint, external_id_field: str, users: Mapping[str, str],
                 contacts: Mapping[str, str], creating: bool) -> dict[str, Any]:
    """The Event for a touchpoint. WhatId only on create: an existing record's WhatId is never
    rewritten (reference 004). OwnerId and WhoId only when Salesforce has such a person."""
    record: dict[str, Any] = {
        external_id_field: str(tp.id),
        "Subject": clip(tp.subject, SUBJECT_MAX),
        "Description": clip(tp.content, DESCRIPTION_MAX),
        "ActivityDateTime": sf_datetime(tp.occurred_at),
        "DurationInMinutes": 0,
    }
    if creating:
        record["WhatId"] = tp.what_id
    owner = users.get(tp.creator.lower())
    if owner:
        record["OwnerId"] = owner
    who = next((contacts[e.lower()] for e in tp.external if e.lower() in contacts), None)
    if who:
        record["WhoId"] = who
    return record


def task_record(task: LocalTask, external_id_field: str, users: Mapping[str, str],
                creating: bool) -> dict[str, Any]:
    record: dict[str, Any] = {
        external_id_field: str(task.id),
        "Subject": clip(task.title, SUBJECT_MAX),
        "Description": clip(task.description, DESCRIPTION_MAX),
        "Priority": task.priority,
        "Status": STATUS_OUT.get(task.status, task.status),
        "ActivityDate": task.due_date.isoformat() if task.due_date else None,
    }
    if creating:
        record["WhatId"] = task.what_id
    owner = users.get(task.assignee.lower()) if task.assignee else None
    if owner:
        record["OwnerId"] = owner
    return record


# --- inbound -----------------------------------------------------------------------------------


def importable(r: Remote, is_task: bool) -> bool:
    """Reference 004: a touchpoint needs a Subject or a Description, a task its Subject."""
    if is_task:
        return bool(r.subject.strip())
    return bool(r.subject.strip() or r.content.strip())
