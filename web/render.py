"""What a view uses besides the store: reading the request (ids, fields), the audit row,
and the page. Views parse, call what the command line calls, and render; no rule lives here.

    @blueprint.get("/touchpoints/<tp_id>")
    def show(tp_id: str):
        tp = show_touchpoint(require_id(tp_id, "touchpoint"))   # NotFound → 404
        audit("view", f"touchpoint {tp.id}")
        return page("touchpoint.html", tp=tp)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from flask import Flask, current_app, render_template, request, url_for
from markupsafe import Markup

from core.errors import NotFound
from core.ids import parse_id
from core.text import shown
from core.utc import iso_utc
from store.access.audit import record
from web.context import client, member, now, signed_in
from web.csrf import FIELD, csrf_token
from web.errors import BadInput

# The navigation: (label, endpoint, admins only). An entry shows once its page exists (its
# blueprint is registered in web.app), so pages can land one by one.
NAV = (("Accounts", "accounts.index", False), ("Review", "review.index", False),
       ("Tasks", "tasks.index", False), ("Runs", "ops.runs", True),
       ("Audit", "audit.index", True))


def page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    """A page of web/templates, extending base.html."""
    return render_template(template, **context), status


def require_id(text: str, what: str) -> int:
    """An id from the URL or a form (core.ids): anything but a plain decimal number from 1 to
    2^63-1 names nothing, so 404 like an id that does not exist."""
    number = parse_id(text)
    if number is None:
        raise NotFound(f"no {what} {text!r}")
    return number


def page_number(name: str = "page") -> int:
    """`?page=N` of a list shown a page at a time: 1 when left out, 400 naming it when it is
    no page number."""
    text = text_field(name, max_chars=6, source="args")
    if not text:
        return 1
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise BadInput(name, f"{text!r} is not a page number")
    return int(text)


def audit(action: str, obj: str) -> None:
    """One row of the audit trail for the signed-in member: every page that shows a
    touchpoint's content, a failed message or an attachment, and every change (SPEC 21).
    `obj` names the thing by id ("touchpoint 12"), never by its text."""
    record(member().email, action, obj, client(), now())


def text_field(name: str, required: bool = False, max_chars: int = 10_000,
               source: str = "form") -> str:
    """A text field from the form (or `source="args"`, the query string), stripped; 400
    naming the field when it is missing but required, or too long."""
    values = request.form if source == "form" else request.args
    value = (values.get(name) or "").strip()
    if required and not value:
        raise BadInput(name, "required")
    if len(value) > max_chars:
        raise BadInput(name, f"at most {max_chars:,} characters")
    return value


def install_rendering(app: Flask) -> None:
    app.jinja_env.autoescape = True  # every template, whatever its name
    app.jinja_env.finalize = as_text
    app.jinja_env.globals.update(csrf_token=csrf_token, csrf_field=csrf_field, nav=nav,
                                 account_url=account_url, signed_in=signed_in,
                                 touchpoint_url=touchpoint_url)
    app.jinja_env.filters.update(when=when, iso=iso_utc, kind=kind, snippet=snippet,
                                 size=size)


def as_text(value: Any) -> Any:
    """Every `{{ value }}` of every page, before it is escaped: stored text with its control
    characters, bidi overrides and lone surrogates as visible escapes (core.text, the rule the
    command line follows), so a stranger's text reads as it is and never breaks the page.
    Markup is the app's own (csrf_field) and passes as it is."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return shown(value)
    return value


def csrf_field() -> Markup:
    """`{{ csrf_field() }}` inside every <form method="post">."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, csrf_token())


def nav() -> list[dict[str, Any]]:
    who = signed_in()
    if who is None:
        return []
    here = request.endpoint or ""
    return [{"label": label, "url": url_for(endpoint), "current": here == endpoint}
            for label, endpoint, admins_only in NAV
            if endpoint in current_app.view_functions
            and (not admins_only or who.role == "admin")]


def account_url(account_id: str) -> str:
    """An account's timeline; its id may hold any character, so every one is quoted."""
    return "/accounts/" + quote(account_id, safe="")


def touchpoint_url(tp_id: int) -> str:
    """`/touchpoints/ID` (the `touchpoints.show` route) without url_for's work: a timeline page
    links a hundred touchpoints."""
    return f"/touchpoints/{int(tp_id)}"


def when(value: str | datetime | None) -> str:
    """`2026-11-02T14:30:00Z` (or a datetime) as people read it: `2026-11-02 14:30`."""
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    return value.replace("T", " ")[:16]


def kind(value: str | None) -> str:
    """A touchpoint type as people read it: `telephone_call` → `Telephone call`."""
    text = (value or "").replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def snippet(value: str | None, chars: int = 120) -> str:
    """The start of a text on one line, cut at a word with an ellipsis."""
    text = " ".join((value or "").split())
    if len(text) <= chars:
        return text
    return text[:chars].rsplit(" ", 1)[0] + "…"


def size(value: int | None) -> str:
    """Bytes as people read them: 512 bytes, 12.3 KB, 4.5 MB."""
    count = int(value or 0)
    if count < 1024:
        return f"{count} byte{'' if count == 1 else 's'}"
    scaled, unit = count / 1024, "KB"
    for bigger in ("MB", "GB"):
        if scaled < 1024:
            break
        scaled, unit = scaled / 1024, bigger
    return f"{scaled:.1f} {unit}"
