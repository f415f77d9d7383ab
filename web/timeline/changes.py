"""Changing a touchpoint on the web (SPEC 21): `POST /touchpoints/ID/edit`, `/delete` and
`/send`, as `touchlog touchpoints edit|delete|send` with the signed-in member as `--as`.

Only the creator or an admin may edit or delete (store.timeline.manage says so, in the CLI's
words: 403). Mailing external participants needs `yes`: without it the page asks, and nothing
is written or sent until the member confirms.
"""

from __future__ import annotations

from flask import Blueprint, redirect, request, url_for
from werkzeug.wrappers import Response

from core.errors import NotFound, Refused, TouchlogError
from poller.notify.copies import Copy, copies_for_edit, copies_to, send_copies
from store.timeline.drafts import Given, changes_of, differences
from store.timeline.manage import (
    delete_touchpoint,
    edit_touchpoint,
    live_touchpoint,
    require_creator_or_admin,
)
from web.context import member, now, settings
from web.errors import BadInput
from web.fields import one_of, optional, repeated, text, when, yes
from web.render import audit, page, require_id
from web.timeline.touchpoint import as_typed, view_of

blueprint = Blueprint("touchpoint_changes", __name__)

AUDIENCES = ("internal", "external", "me")  # `to`, as the CLI's --to


@blueprint.post("/touchpoints/<tp_id>/edit")
def edit(tp_id: str) -> Response | tuple[str, int]:
    number = require_id(tp_id, "touchpoint")
    if "account" in request.form:  # SPEC 13: as `edit --account` is a usage error
        raise BadInput("account", "the account of a touchpoint never changes: delete it and "
                                  "add it on the other account")
    notify = one_of("notify", ("none", "new", "all")) or "none"
    before = live_touchpoint(number)
    require_creator_or_admin(before, member(), "edit")
    try:
        changes = differences(before, changes_of(settings(), _given()))
        if changes.empty():
            raise TouchlogError("nothing to change: the form gave the touchpoint's current "
                                "values")
        copies = copies_for_edit(settings(), before, changes, notify)
    except (NotFound, Refused):
        raise
    except TouchlogError as exc:  # a field that cannot be used: the form again, as typed
        return page("touchpoint.html", 400, **view_of(before, form=as_typed(), error=str(exc)))
    if _outside(copies) and not yes():
        return _confirm(before.id, "edit", copies)
    result = edit_touchpoint(number, member(), changes, now())
    audit("edit", f"touchpoint {number}")
    if copies:
        send_copies(settings(), result.touchpoint, member(), copies, now())
        audit("send", f"touchpoint {number}")
    return redirect(url_for("touchpoints.show", tp_id=number), 303)


def _given() -> Given:
    """The edit form's fields (the CLI's edit options); a field left out is left as it is."""
    return Given(type=optional("type", max_chars=200), occurred_at=when("date"),
                 subject=text("subject"), content=text("content"),
                 flow=optional("flow", max_chars=200), reasons=repeated("reason"),
                 participants=repeated("add_participant"),
                 removed=repeated("remove_participant"))


@blueprint.post("/touchpoints/<tp_id>/delete")
def delete(tp_id: str) -> Response:
    tp = delete_touchpoint(require_id(tp_id, "touchpoint"), member(), now())
    audit("delete", f"touchpoint {tp.id}")
    return redirect(url_for("touchpoints.show", tp_id=tp.id), 303)


@blueprint.post("/touchpoints/<tp_id>/send")
def send(tp_id: str) -> Response | tuple[str, int]:
    number = require_id(tp_id, "touchpoint")
    audiences = repeated("to")
    if not audiences:
        raise BadInput("to", f"required: one or more of {', '.join(AUDIENCES)}")
    for audience in audiences:
        if audience not in AUDIENCES:
            raise BadInput("to", f"{audience!r} is not one of {', '.join(AUDIENCES)}")
    tp = live_touchpoint(number)
    copies = copies_to(settings(), tp, member(), audiences)
    if _outside(copies) and not yes():
        return _confirm(tp.id, "send", copies)
    send_copies(settings(), tp, member(), copies, now())
    audit("send", f"touchpoint {tp.id}")
    return redirect(url_for("touchpoints.show", tp_id=tp.id), 303)


def _outside(copies: list[Copy]) -> list[str]:
    return [r for c in copies if c.audience == "external" for r in c.recipients]


def _confirm(tp_id: int, action: str, copies: list[Copy]) -> tuple[str, int]:
    """Customers get mail only when someone said so (SPEC 14): the same form once more, with
    `yes`, and nothing written or sent until then."""
    fields = [(name, value) for name, value in request.form.items(multi=True)
              if name not in ("csrf_token", "yes")]
    return page("confirm.html", tp_id=tp_id, action=action, outside=_outside(copies),
                copies=copies, fields=fields,
                target=url_for(f"touchpoint_changes.{action}", tp_id=tp_id))
