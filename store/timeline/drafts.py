"""From what a person gave to what is written: the options of `touchpoints add|edit` and the
fields of the web's add and edit forms both become a Draft or Changes here, so the configured
lists, the content's limit, the subject's spaces, participants and attachments follow one rule.

A value that cannot be used raises FieldError naming the field (`type`, `flow`, `reason`,
`content`, `date`): the command line says it as a usage error of `--type` …, the web answers
400 naming the form field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from core.errors import FieldError
from core.settings import Settings
from core.text import shown
from store.directory.lookups import require_account
from store.models import Touchpoint
from store.timeline.manage import Changes, Draft, keep_files, participants_of
from store.timeline.touchpoints import Filter


@dataclass(frozen=True)
class Given:
    """What a person gave for a touchpoint; None (or empty) leaves a field to its default (add)
    or as it is (edit)."""

    type: str | None = None
    occurred_at: datetime | None = None  # naive UTC
    subject: str | None = None
    content: str | None = None
    flow: str | None = None
    reasons: tuple[str, ...] = ()
    participants: tuple[str, ...] = ()  # add: --participant; edit: --add-participant
    removed: tuple[str, ...] = ()  # edit: --remove-participant
    # Only for add: (file name, bytes). A file from the command line is named by its path's
    # last part; an upload's name is taken as given (shown as text, never used as a path).
    files: tuple[tuple[str, bytes], ...] = ()


def check_choices(settings: Settings, type_: str | None, flow: str | None,
                  reasons: Sequence[str]) -> None:
    """The configured lists (SPEC 13): `touchpoints.types`, `flows`, `reasons`."""
    t = settings.touchpoints
    for field, key, value in (("type", "types", type_), ("flow", "flows", flow),
                              *(("reason", "reasons", r) for r in reasons)):
        problem = t.not_allowed(key, value)
        if problem is not None:
            raise FieldError(field, problem)


def check_filter(settings: Settings, where: Filter) -> None:
    """The timeline's filters (`touchpoints --type … --notes`, the web's `type`, `notes`): a type
    of the configured list, and a type or the notes switch, not both."""
    check_choices(settings, where.type, None, ())
    if where.type is not None and where.notes is not None:
        raise FieldError("notes", "give a type or notes only/none, not both")


def check_content(settings: Settings, content: str | None) -> None:
    limit = settings.touchpoints.max_content_chars
    if content is not None and len(content) > limit:
        raise FieldError("content", f"{len(content)} characters; at most {limit} "
                                    "(touchpoints.max_content_chars)")


def draft_of(settings: Settings, account_id: str, given: Given, now: datetime) -> Draft:
    """A touchpoint to add on a live account; its files are kept once every check passed."""
    t = settings.touchpoints
    if given.type is None:
        raise FieldError("type", f"required: one of {', '.join(t.types)}")
    check_choices(settings, given.type, given.flow, given.reasons)
    require_account(account_id, live=True)
    check_content(settings, given.content)
    people = participants_of(given.participants, t.internal_domains)
    return Draft(account_id=account_id, type=given.type, occurred_at=given.occurred_at or now,
                 subject=" ".join((given.subject or "").split()), content=given.content or "",
                 flow=given.flow or t.default_flow, reasons=given.reasons,
                 participants=people,
                 attachments=keep_files(given.files, settings.attachments_path()))


def changes_of(settings: Settings, given: Given) -> Changes:
    """What `edit` changes: only the fields given (`reasons` replace the reasons)."""
    check_choices(settings, given.type, given.flow, given.reasons)
    check_content(settings, given.content)
    return Changes(type=given.type, occurred_at=given.occurred_at,
                   subject=None if given.subject is None else " ".join(given.subject.split()),
                   content=given.content, flow=given.flow, reasons=given.reasons or None,
                   add_participants=participants_of(given.participants,
                                                    settings.touchpoints.internal_domains),
                   remove_participants=given.removed)


def differences(tp: Touchpoint, changes: Changes) -> Changes:
    """`changes` without what would leave a field as it is: a form that shows every field
    sends them all back, and an unchanged one must not count as an edit. A text equal to the
    one shown is unchanged, and so is a date equal to it to the second, so saving a form
    again never rewrites a stranger's control characters or drops a time's fractions."""
    same: dict[str, Any] = {}
    for name in ("type", "subject", "content", "flow"):
        # As a page shows it too (core.text): its control characters as escapes.
        if getattr(changes, name) in (getattr(tp, name), shown(getattr(tp, name) or "")):
            same[name] = None
    if changes.occurred_at in (tp.occurred_at, tp.occurred_at.replace(microsecond=0)):
        same["occurred_at"] = None
    if changes.reasons is not None and list(changes.reasons) == list(tp.reasons):
        same["reasons"] = None
    current = {p["email"].lower() for p in tp.participants}
    added = tuple(p for p in changes.add_participants if p["email"].lower() not in current)
    return replace(changes, **same, add_participants=added)
