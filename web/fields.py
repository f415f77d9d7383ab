"""Reading the fields SPEC 21 names from a form or a query string, beyond web.render's
text_field: repeatable fields, dates, a choice among fixed words, a textarea's text, uploaded
files. Each bad value is BadInput naming the field (400); what the value means is the store's
business (store.timeline.drafts)."""

from __future__ import annotations

import re
from datetime import datetime

from flask import request
from werkzeug.datastructures import MultiDict

from core.utc import parse_when
from web.errors import BadInput

# A text field's length before the store's own limits (touchpoints.max_content_chars …) apply;
# requests as a whole are limited to 32 MiB (web.app).
MAX_TEXT = 1_000_000


def _values(source: str) -> MultiDict[str, str]:
    return request.form if source == "form" else request.args


def optional(name: str, source: str = "form", max_chars: int = 10_000) -> str | None:
    """A one-line field, stripped; None when absent or empty (an edit leaves the field as it
    is, an add takes the default)."""
    value = (_values(source).get(name) or "").strip()
    if len(value) > max_chars:
        raise BadInput(name, f"at most {max_chars:,} characters")
    return value or None


def text(name: str) -> str | None:
    """A textarea's text as typed: a browser sends its line ends as CRLF, kept as newlines;
    None when the field is absent (an empty one is empty text)."""
    value = request.form.get(name)
    if value is None:
        return None
    if len(value) > MAX_TEXT:
        raise BadInput(name, f"at most {MAX_TEXT:,} characters")
    return value.replace("\r\n", "\n")


def repeated(name: str, max_chars: int = 1_000) -> tuple[str, ...]:
    """A repeatable field (`reason`, `participant`, `to` …): each value stripped, empty ones
    (the blank inputs a form offers) left out, a value given twice once."""
    values = []
    for value in request.form.getlist(name):
        value = value.strip()
        if len(value) > max_chars:
            raise BadInput(name, f"at most {max_chars:,} characters")
        if value and value not in values:
            values.append(value)
    return tuple(values)


def when(name: str, source: str = "form", end_of_day: bool = False) -> datetime | None:
    """A date (2026-11-02) or date and time (2026-11-02T14:30, what a datetime-local input
    sends; a time without a zone is UTC), as the CLI reads `--date`; None when left out."""
    value = optional(name, source, max_chars=64)
    if value is None:
        return None
    try:
        return parse_when(value, end_of_day)
    except ValueError as exc:
        raise BadInput(name, str(exc)) from None


def one_of(name: str, words: tuple[str, ...], source: str = "form") -> str | None:
    """One of fixed words (`notes=only|none`, `notify=none|new|all`); None when left out."""
    value = optional(name, source, max_chars=64)
    if value is not None and value not in words:
        raise BadInput(name, f"{value!r} is not one of {', '.join(words)}")
    return value


def yes(name: str = "yes") -> bool:
    """A confirmation (`yes`): a checkbox or a button; any value but an empty one or "no"."""
    value = (request.form.get(name) or "").strip().lower()
    return value not in ("", "0", "no", "false", "off")


def uploads(name: str) -> tuple[tuple[str, bytes], ...]:
    """The files of a file input (`attach`, repeatable), as (name, bytes). The name is the
    part after the last slash or backslash (some browsers send a whole path); an input left
    empty sends a part with no name and no bytes, which is no file."""
    files = []
    for upload in request.files.getlist(name):
        data = upload.read()
        filename = re.split(r"[\\/]", upload.filename or "")[-1].strip()
        if not filename and not data:
            continue
        files.append((filename or "attachment", data))
    return tuple(files)
