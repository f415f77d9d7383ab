"""Tasks: the follow-ups of SPEC 13. The assigner, the assignee or an admin may edit, complete
or delete one; completing one can add a follow-up touchpoint in the task's flow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from core.errors import NotFound, Refused, TouchlogError
from core.utc import iso_utc, utcnow
from store.models import Task, TeamMember, Touchpoint, database
from store.timeline.manage import Draft, add_touchpoint, admins

STATUSES = ("Open", "Completed")


@dataclass(frozen=True)
class TaskFields:
    """What `tasks add` or `tasks edit` was given; for an edit, None keeps a field."""

    title: str | None = None
    description: str | None = None
    priority: str | None = None
    status: str | None = None
    due_date: date | None = None
    assignee: TeamMember | None = None
    flow: str | None = None

    def empty(self) -> bool:
        return self == TaskFields()


def add_task(account_id: str, member: TeamMember, fields: TaskFields) -> Task:
    """A new open task; assigned to its author unless `fields.assignee` names another."""
    assignee = fields.assignee or member
    return Task.create(account=account_id, title=fields.title or "",
                       description=fields.description or "",
                       priority=fields.priority or "Normal", due_date=fields.due_date,
                       assignee=assignee.id, assignee_email=assignee.email,
                       assigner=member.id, assigner_email=member.email, flow=fields.flow)


def tasks(account_id: str | None = None, assignee: str | None = None,
          status: str | None = None, limit: int | None = None, offset: int = 0) -> list[Task]:
    """Live tasks, the soonest due first (undated last), then by id; `limit` of them from
    `offset` (a page on the web), all by default."""
    query = Task.select().where(Task.deleted_at.is_null())
    if account_id is not None:
        query = query.where(Task.account == account_id)
    if assignee is not None:
        query = query.where(Task.assignee_email == assignee.lower())
    if status is not None:
        query = query.where(Task.status == status)
    query = query.order_by(Task.due_date.is_null(), Task.due_date, Task.id)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    return list(query)


def live_task(task_id: int) -> Task:
    task = Task.get_or_none(Task.id == task_id)
    if task is None:
        raise NotFound(f"no task {task_id}")
    if task.deleted_at is not None:
        raise TouchlogError(f"task {task_id} was deleted by {task.deleted_by} at "
                            f"{iso_utc(task.deleted_at)}")
    return task


def may_change(task: Task, member: TeamMember) -> bool:
    """Edit, complete or delete (SPEC 13): its assigner, its assignee or an admin. The web
    offers the controls only then; require_may_change is the check."""
    email = member.email.lower()
    return member.role == "admin" or email in (task.assigner_email, task.assignee_email)


def require_may_change(task: Task, member: TeamMember, verb: str) -> None:
    if may_change(task, member):
        return
    raise Refused(
        f"{member.email} may not {verb} task {task.id}: only its assigner "
        f"({task.assigner_email or 'unknown'}), its assignee ({task.assignee_email or 'unknown'})"
        f" or an admin ({', '.join(admins()) or 'none on the team'}) may")


def edit_task(task_id: int, member: TeamMember, fields: TaskFields,
              now: datetime | None = None) -> Task:
    task = live_task(task_id)
    require_may_change(task, member, "edit")
    for name in ("title", "description", "priority", "due_date", "flow"):
        value = getattr(fields, name)
        if value is not None:
            setattr(task, name, value)
    if fields.assignee is not None:
        task.assignee, task.assignee_email = fields.assignee, fields.assignee.email
    if fields.status is not None and fields.status != task.status:
        task.status = fields.status
        task.completed_at = (now or utcnow()) if fields.status == "Completed" else None
    return _touched(task, member, now)


def complete_task(task_id: int, member: TeamMember, now: datetime | None = None) -> Task:
    task = live_task(task_id)
    require_may_change(task, member, "complete")
    if task.status == "Completed":
        raise TouchlogError(f"task {task_id} is already completed "
                            f"({iso_utc(task.completed_at) or 'date unknown'})")
    task.status, task.completed_at = "Completed", now or utcnow()
    return _touched(task, member, now)


def complete_with_followup(task_id: int, member: TeamMember, subject: str | None,
                           type_: str, content: str | None,
                           default_flow: str) -> tuple[Task, Touchpoint | None]:
    """Complete the task and, given a subject, add the follow-up touchpoint in the task's
    flow (reference 002), both or neither."""
    with database.atomic():
        task = complete_task(task_id, member)
        if subject is None:
            return task, None
        now = utcnow()
        tp = add_touchpoint(Draft(account_id=task.account_id, type=type_, occurred_at=now,
                                  subject=" ".join(subject.split()),
                                  content=task.description if content is None else content,
                                  flow=task.flow or default_flow), member)
        task.followup = tp
        task.save()
    return task, tp


def delete_task(task_id: int, member: TeamMember, now: datetime | None = None) -> Task:
    task = live_task(task_id)
    require_may_change(task, member, "delete")
    task.deleted_at, task.deleted_by = now or utcnow(), member.email
    task.save()
    return task


def _touched(task: Task, member: TeamMember, now: datetime | None) -> Task:
    task.updated_at, task.updated_by = now or utcnow(), member.email
    task.save()
    return task


def as_json(task: Task) -> dict[str, Any]:
    """The stable JSON shape of SPEC 18."""
    return {"id": task.id, "account_id": task.account_id, "title": task.title,
            "description": task.description, "priority": task.priority,
            "status": task.status,
            "due_date": task.due_date.isoformat() if task.due_date else None,
            "assignee": task.assignee_email or None, "assigner": task.assigner_email or None,
            "flow": task.flow, "created_at": iso_utc(task.created_at),
            "updated_at": iso_utc(task.updated_at), "external_id": task.external_id}
