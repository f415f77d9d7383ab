"""The review queue (SPEC 13, 21, 22): `GET /review` shows the failed folder, newest first, 50 a
page: UID, date, sender, subject, reason, and as text the accounts the rules saw; `POST
/review/UID/assign` (`account`, `remember`) and `POST /review/UID/retry` are `failures assign`
and `failures retry` with the signed-in member as the author.

Who may assign or retry from the web (an admin, or the team member who sent the message) is
poller.failed.review's rule. Showing the queue adds an audit row, and so does every change. A
change goes back (303) to the page it was made on, which says in words what was done; the
message has really moved on the IMAP server by then.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, redirect, request, url_for
from werkzeug.wrappers import Response

from core.errors import MailboxError, TouchlogError
from core.ids import parse_id
from poller.failed.assign import assign
from poller.failed.folder import retry
from poller.failed.learn import remembered
from poller.failed.review import PAGE, may_fix, queue_page, require_may_fix
from store.directory.lookups import SqlDirectory, require_account
from store.models import Touchpoint
from web.context import member, now, settings
from web.errors import BadInput, error_page
from web.fields import yes
from web.render import audit, page, page_number, require_id, text_field

log = logging.getLogger(__name__)
blueprint = Blueprint("review", __name__)


@blueprint.errorhandler(MailboxError)
def _mailbox_down(exc: MailboxError) -> tuple[str, int]:
    log.error("review queue: %s", exc)
    return error_page(503, "The mailbox is not answering (IMAP); try again in a moment.")


@blueprint.get("/review")
def index() -> tuple[str, int]:
    number = page_number()
    queue = queue_page(settings(), number)
    audit("view", f"failed folder page {number}")
    me, directory = member(), SqlDirectory()
    rows = [{"failure": f, "may": may_fix(f.sender, me, directory)} for f in queue.failures]
    mb = settings().mailbox
    return page("review.html", rows=rows, total=queue.total, number=number, size=PAGE,
                more=number * PAGE < queue.total, result=_result(), folder=mb.failed_folder,
                logged=mb.logged_folder)


@blueprint.post("/review/<uid>/assign")
def assign_one(uid: str) -> Response:
    number, me = require_id(uid, "failed message"), member()
    require_may_fix(settings(), number, me, "assign")
    account_id = text_field("account", required=True, max_chars=200)
    try:
        require_account(account_id, live=True)
    except TouchlogError as exc:
        raise BadInput("account", str(exc)) from None
    remember = yes("remember")
    tp_id = assign(settings(), number, account_id, me, now(), remember=remember)
    audit("assign", f"failure UID {number}")
    if remember:
        audit("remember", f"failure UID {number}")
    return _back("assigned", number, touchpoint=tp_id)


@blueprint.post("/review/<uid>/retry")
def retry_one(uid: str) -> Response:
    number = require_id(uid, "failed message")
    require_may_fix(settings(), number, member(), "retry")
    retry(settings(), [number])
    audit("retry", f"failure UID {number}")
    return _back("retried", number)


def _back(what: str, uid: int, touchpoint: int | None = None) -> Response:
    kept: dict[str, Any] = {k: v for k, v in request.args.items() if k == "page" and v}
    return redirect(url_for("review.index", **kept, done=what, uid=uid, touchpoint=touchpoint),
                    303)


def _result() -> dict[str, Any] | None:
    """What the last change did, from `done`, `uid` and `touchpoint` (ids only: the account
    is read from the touchpoint itself, never from the address bar)."""
    what, uid = request.args.get("done", ""), parse_id(request.args.get("uid", ""))
    if uid is None or what not in ("assigned", "retried"):
        return None
    tp_id = parse_id(request.args.get("touchpoint", ""))
    tp = Touchpoint.get_or_none(Touchpoint.id == tp_id) if tp_id is not None else None
    if what == "assigned" and tp is None:
        return None
    names = SqlDirectory().account_names([tp.account_id]) if tp is not None else {}
    learnt = remembered(tp.id) if tp is not None else None
    return {"what": what, "uid": uid, "touchpoint": tp,
            "account": names.get(tp.account_id, "") if tp is not None else "",
            "remembered": learnt.words if learnt is not None else ""}
