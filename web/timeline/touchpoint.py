"""One touchpoint whole (`GET /touchpoints/ID`, what `touchlog touchpoints show` and `touchlog
explain` say), its attachments as downloads, and adding one (`GET /touchpoints/new?account=ID`,
`POST /touchpoints`, what `touchlog touchpoints add` does with the member as `--as`).

Editing, deleting and sending are in web/timeline/changes.py.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, request, url_for
from werkzeug.wrappers import Response

from core.errors import NotFound, Refused, TouchlogError
from poller.decide.explained import explain_touchpoint
from store.directory.lookups import require_account
from store.encryption.sealed import SEALING
from store.models import Touchpoint
from store.timeline.attachments import read_attachment_file
from store.timeline.drafts import Given, draft_of
from store.timeline.manage import add_touchpoint, find_touchpoint, may_change
from store.timeline.threads import in_thread
from store.timeline.touchpoints import details, kept_files, replies_of, thread_of
from web.context import member, now, settings
from web.fields import optional, repeated, text, uploads, when
from web.render import audit, page, require_id, text_field
from web.timeline.downloads import download

blueprint = Blueprint("touchpoints", __name__)


@blueprint.get("/touchpoints/<tp_id>")
def show(tp_id: str) -> tuple[str, int]:
    tp = find_touchpoint(require_id(tp_id, "touchpoint"))  # a deleted one too: it says so
    audit("view", f"touchpoint {tp.id}")
    return page("touchpoint.html", **view_of(tp))


def view_of(tp: Touchpoint, **more: Any) -> dict[str, Any]:
    """What touchpoint.html shows (the edit page shows it again with the form as sent)."""
    whole = details(tp)
    first = thread_of(tp)
    return {"tp": tp, "whole": whole, "account": require_account(tp.account_id),
            "explained": explain_touchpoint(tp),
            # The first touchpoint of a thread lists the whole thread (the timeline's "N
            # replies" lead here); any other, its own replies (what `show` lists).
            "replies": [r for r in in_thread(tp) if r.id != tp.id] if first == tp.id
            else replies_of(tp),
            "first": Touchpoint.get_or_none(Touchpoint.id == first) if first != tp.id else None,
            "live": tp.deleted_at is None, "may_change": may_change(tp, member()),
            "t": settings().touchpoints, "roles": _roles(tp),
            "values": values_of(more.pop("form", {}), {
                "type": tp.type, "date": f"{tp.occurred_at:%Y-%m-%dT%H:%M:%S}",
                "subject": tp.subject, "content": tp.content, "flow": tp.flow,
                "reason": list(tp.reasons)}), "error": None, **more}


REPEATABLE = ("reason", "participant", "add_participant", "remove_participant", "to")


def values_of(form: dict[str, list[str]], defaults: dict[str, Any]) -> dict[str, Any]:
    """What a form shows: the fields as sent (a form shown again after a refusal), else the
    defaults (the touchpoint as it is, or an empty new one)."""
    values = dict(defaults)
    for name, sent in form.items():
        values[name] = sent if name in REPEATABLE else (sent[0] if sent else "")
    return values


def _roles(tp: Touchpoint) -> dict[str, int]:
    """How many participants each audience of `send` has, for the form's labels."""
    counts = {"internal": 0, "external": 0}
    for person in tp.participants:
        if person.get("role") in counts:
            counts[person["role"]] += 1
    return counts


@blueprint.get("/touchpoints/<tp_id>/attachments/<number>")
def attachment(tp_id: str, number: str) -> Response:
    tp = find_touchpoint(require_id(tp_id, "touchpoint"))
    n = require_id(number, "attachment")
    files = kept_files(tp, settings().attachments_path())  # where `show`'s mail copies look
    if n > len(files):
        raise NotFound(f"touchpoint {tp.id} has no attachment {n}")
    att, path = files[n - 1]
    if path is None:
        raise NotFound(f"attachment {n} of touchpoint {tp.id} is no longer kept")
    data = read_attachment_file(path, att["sha256"], SEALING.ring)
    audit("download", f"touchpoint {tp.id} attachment {n}")
    return download(data, att.get("filename"), att.get("content_type"),
                    fallback=f"touchpoint-{tp.id}-attachment-{n}")


@blueprint.get("/touchpoints/new")
def new() -> tuple[str, int]:
    account = require_account(text_field("account", required=True, max_chars=500,
                                         source="args"), live=True)
    return page("touchpoint_new.html", account=account, t=settings().touchpoints,
                values=values_of({}, _new_defaults()), error=None)


def _new_defaults() -> dict[str, Any]:
    return {"type": "", "date": "", "subject": "", "content": "",
            "flow": settings().touchpoints.default_flow, "reason": [], "participant": []}


@blueprint.post("/touchpoints")
def add() -> Response | tuple[str, int]:
    account_id = text_field("account", required=True, max_chars=500)
    account = require_account(account_id)  # NotFound → 404
    files = uploads("attach")
    try:
        given = Given(type=optional("type", max_chars=200), occurred_at=when("date"),
                      subject=optional("subject", max_chars=2_000), content=text("content"),
                      flow=optional("flow", max_chars=200), reasons=repeated("reason"),
                      participants=repeated("participant"), files=files)
        tp = add_touchpoint(draft_of(settings(), account.account_id, given, now()), member())
    except (NotFound, Refused):
        raise
    except TouchlogError as exc:  # a field that cannot be used: the form again, as typed
        return page("touchpoint_new.html", 400, account=account, t=settings().touchpoints,
                    values=values_of(as_typed(), _new_defaults()), error=str(exc),
                    files_lost=bool(files))
    audit("add", f"touchpoint {tp.id}")
    return redirect(url_for("touchpoints.show", tp_id=tp.id), 303)


def as_typed() -> dict[str, list[str]]:
    """The form's fields as sent, to fill it again (files cannot be: the page says so)."""
    return {name: request.form.getlist(name) for name in request.form}
