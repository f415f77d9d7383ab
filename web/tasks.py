"""The tasks (SPEC 13, 21): `GET /tasks` (filters `account`, `assignee`, `status`, as `touchlog
tasks`), `POST /tasks` (add), `POST /tasks/ID/edit`, `/done` (with `touchpoint`, the follow-up's
subject, as `tasks done --touchpoint`; `type`, `content`) and `/delete`.

The signed-in member is the author (`--as`); who may change a task (its assigner, its assignee
or an admin) is store.timeline.tasks' rule, refused with its words (403). A change goes back
(303) to the list as it was filtered, which says in words what was done.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, redirect, request, url_for
from werkzeug.wrappers import Response

from core.errors import TouchlogError
from core.ids import parse_id
from store.directory.lookups import SqlDirectory, require_account
from store.models import PRIORITIES, Task, TeamMember
from store.timeline.drafts import check_choices
from store.timeline.manage import author
from store.timeline.tasks import (
    STATUSES,
    TaskFields,
    add_task,
    complete_with_followup,
    delete_task,
    edit_task,
    live_task,
    may_change,
    require_may_change,
    tasks,
)
from web.context import member, settings
from web.errors import BadInput
from web.render import audit, page, page_number, require_id, text_field

blueprint = Blueprint("tasks", __name__)
PAGE = 100
FILTERS = ("account", "assignee", "status")
DONE = {"added": "added", "edited": "edited", "completed": "completed", "deleted": "deleted",
        "unchanged": "left as it was: nothing in the form differed"}


@blueprint.get("/tasks")
def index() -> tuple[str, int]:
    shown = {name: text_field(name, max_chars=320, source="args") for name in FILTERS}
    if shown["status"] and shown["status"] not in STATUSES:
        raise BadInput("status", f"{shown['status']!r} is not one of {', '.join(STATUSES)}")
    if shown["account"]:
        _account(shown["account"])
    number = page_number()
    rows = tasks(shown["account"] or None, shown["assignee"] or None, shown["status"] or None,
                 limit=PAGE + 1, offset=(number - 1) * PAGE)
    me, t = member(), settings().touchpoints
    return page("tasks.html", rows=rows[:PAGE], more=len(rows) > PAGE, number=number,
                filters=shown, kept={k: v for k, v in shown.items() if v},
                names=SqlDirectory().account_names([r.account_id for r in rows]),
                may={r.id: may_change(r, me) for r in rows}, result=_result(), me=me,
                priorities=PRIORITIES, statuses=STATUSES, flows=t.flows, types=t.types)


@blueprint.post("/tasks")
def add() -> Response:
    account_id = text_field("account", required=True, max_chars=200)
    _account(account_id, live=True)
    fields = _fields(adding=True)
    if not fields.title:
        raise BadInput("title", "required")
    task = add_task(account_id, member(), fields)
    audit("add", f"task {task.id}")
    return _back("added", task.id)


@blueprint.post("/tasks/<task_id>/edit")
def edit(task_id: str) -> Response:
    task = live_task(require_id(task_id, "task"))
    require_may_change(task, member(), "edit")  # before the form is read: 403 comes first
    fields = _changed(task, _fields(adding=False, assignee=task.assignee_email))
    if fields.empty():
        return _back("unchanged", task.id)
    edit_task(task.id, member(), fields)
    audit("edit", f"task {task.id}")
    return _back("edited", task.id)


@blueprint.post("/tasks/<task_id>/done")
def done(task_id: str) -> Response:
    number = require_id(task_id, "task")
    subject = text_field("touchpoint", max_chars=1_000) or None
    type_ = text_field("type", max_chars=200) or None
    t = settings().touchpoints
    check_choices(settings(), type_, None, ())
    task, tp = complete_with_followup(number, member(), subject, type_ or t.types[0],
                                      _text("content") or None, t.default_flow)
    audit("done", f"task {task.id}")
    if tp is not None:
        audit("add", f"touchpoint {tp.id}")
    return _back("completed", task.id, touchpoint=tp.id if tp else None)


@blueprint.post("/tasks/<task_id>/delete")
def delete(task_id: str) -> Response:
    task = delete_task(require_id(task_id, "task"), member())
    audit("delete", f"task {task.id}")
    return _back("deleted", task.id)


def _account(account_id: str, live: bool = False) -> None:
    """An account named in a field: unknown (or, to write, removed) is 400 naming the field."""
    try:
        require_account(account_id, live=live)
    except TouchlogError as exc:
        raise BadInput("account", str(exc)) from None


def _fields(adding: bool, assignee: str = "") -> TaskFields:
    """The form's fields as `tasks add|edit` takes its options; one left out (or empty) is
    None: the default when adding, as it was when editing, as is `assign` when it names the
    task's `assignee` still (who may have left the team since)."""
    priority = text_field("priority", max_chars=20) or None
    status = None if adding else text_field("status", max_chars=20) or None
    for name, value, words in (("priority", priority, PRIORITIES), ("status", status, STATUSES)):
        if value is not None and value not in words:
            raise BadInput(name, f"{value!r} is not one of {', '.join(words)}")
    flow = text_field("flow", max_chars=200) or None
    check_choices(settings(), None, flow, ())
    assign = text_field("assign", max_chars=320)
    if assign.lower() == assignee:
        assign = ""
    return TaskFields(title=text_field("title", max_chars=1_000) or None,
                      description=_text("description"), priority=priority, status=status,
                      due_date=_due(), assignee=_member(assign) if assign else None,
                      flow=flow)


def _changed(task: Task, given: TaskFields) -> TaskFields:
    """Of a form that shows every field as it is, only what differs."""
    now = {"title": task.title, "description": task.description, "priority": task.priority,
           "status": task.status, "due_date": task.due_date, "flow": task.flow}
    kept: dict[str, Any] = {name: new for name, value in now.items()
                            if (new := getattr(given, name)) is not None and new != value}
    if given.assignee is not None and given.assignee.email.lower() != task.assignee_email:
        kept["assignee"] = given.assignee
    return TaskFields(**kept)


def _member(address: str) -> TeamMember:
    try:
        return author(address, "assign")
    except TouchlogError as exc:
        raise BadInput("assign", str(exc).removeprefix(f"assign {address}: ")) from None


def _due() -> date | None:
    text = text_field("due", max_chars=20)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadInput("due", f"{text!r} is not a date (2026-11-02)") from None


def _text(name: str) -> str | None:
    """A textarea as typed (None when the form has none); a browser sends line ends as CRLF."""
    value = request.form.get(name)
    if value is not None and len(value) > 100_000:
        raise BadInput(name, "at most 100,000 characters")
    return value.replace("\r\n", "\n") if value is not None else None


def _back(what: str, task_id: int, touchpoint: int | None = None) -> Response:
    """To the list as it was filtered (the form's action kept the filters), saying what was
    done by a word and ids the page turns into a sentence, never by text it would echo."""
    kept: dict[str, Any] = {k: v for k, v in request.args.items()
                            if k in (*FILTERS, "page") and v}
    return redirect(url_for("tasks.index", **kept, done=what, task=task_id,
                            touchpoint=touchpoint), 303)


def _result() -> dict[str, Any] | None:
    """What the last change did, from `done`, `task` and `touchpoint` (ids only)."""
    what = DONE.get(request.args.get("done", ""))
    task = _number(request.args.get("task", ""))
    if what is None or task is None:
        return None
    return {"what": what, "task": task, "touchpoint": _number(request.args.get("touchpoint", ""))}


def _number(text: str) -> int | None:
    return parse_id(text) if text else None
