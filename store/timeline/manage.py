"""Touchpoints people add, correct and delete by hand (SPEC 13): who may, and the writes.

Every change names its author, a team member. Anyone on the team may add; only the creator or
an admin may edit or delete. A delete leaves a tombstone (the sync must learn of it); the
account of a touchpoint never changes.
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from core.addresses import domain_of, is_under
from core.errors import NotFound, Refused, TouchlogError
from core.utc import iso_utc, utcnow
from store.directory.lookups import SqlDirectory
from store.models import TeamMember, Touchpoint
from store.timeline.touchpoints import keep_attachment


@dataclass(frozen=True)
class Draft:
    """What `touchpoints add` was given, checked by the command line."""

    account_id: str
    type: str
    occurred_at: datetime  # naive UTC
    subject: str
    content: str
    flow: str
    reasons: tuple[str, ...] = ()
    participants: tuple[dict[str, str], ...] = ()
    attachments: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Changes:
    """What `touchpoints edit` changes; None leaves a field as it is."""

    type: str | None = None
    occurred_at: datetime | None = None
    subject: str | None = None
    content: str | None = None
    flow: str | None = None
    reasons: tuple[str, ...] | None = None
    add_participants: tuple[dict[str, str], ...] = ()
    remove_participants: tuple[str, ...] = ()

    def empty(self) -> bool:
        return self == Changes()


@dataclass(frozen=True)
class Edit:
    touchpoint: Touchpoint
    added: tuple[dict[str, str], ...] = field(default=())  # participants this edit added


# --- who ---------------------------------------------------------------------------------------


def author(address: str, option: str = "--as") -> TeamMember:
    """The team member `--as` (or `option`) names (an alias names its member); anyone else:
    an error naming the option."""
    member = SqlDirectory().team_member(address)
    if member is None:
        raise TouchlogError(f"{option} {address}: not a team member (touchlog import team adds "
                            "one)")
    return member


def admins() -> list[str]:
    return [m.email for m in TeamMember.select().where(TeamMember.role == "admin")
            .order_by(TeamMember.email)]


def require_admin(member: TeamMember, what: str) -> None:
    """Pages only admins see (the runs, the audit trail): `what` is what they show."""
    if member.role != "admin":
        raise Refused(f"{member.email} may not read {what}: only an admin "
                      f"({', '.join(admins()) or 'none on the team'}) may")


def require_creator_or_admin(tp: Touchpoint, member: TeamMember, verb: str) -> None:
    if may_change(tp, member):
        return
    admins_text = ", ".join(admins()) or "none on the team"
    raise Refused(
        f"{member.email} may not {verb} touchpoint {tp.id}: only its creator "
        f"({tp.creator_email or 'unknown'}) or an admin ({admins_text}) may")


def may_change(tp: Touchpoint, member: TeamMember) -> bool:
    """Edit or delete (SPEC 13): its creator or an admin. The web shows the controls only then;
    require_creator_or_admin is the check."""
    return member.role == "admin" or is_creator(tp, member)


def is_creator(tp: Touchpoint, member: TeamMember) -> bool:
    return tp.creator_id == member.id or tp.creator_email == member.email.lower()


# --- finding one -------------------------------------------------------------------------------


def find_touchpoint(tp_id: int) -> Touchpoint:
    tp = Touchpoint.get_or_none(Touchpoint.id == tp_id)
    if tp is None:
        raise NotFound(f"no touchpoint {tp_id}")
    return tp


def live_touchpoint(tp_id: int) -> Touchpoint:
    tp = find_touchpoint(tp_id)
    if tp.deleted_at is not None:
        raise TouchlogError(tombstone_line(tp))
    return tp


def tombstone_line(tp: Touchpoint) -> str:
    return (f"touchpoint {tp.id} was deleted by {tp.deleted_by or 'unknown'} at "
            f"{iso_utc(tp.deleted_at)}")


# --- participants and attachments given on the command line ----------------------------------


def participants_of(texts: Iterable[str], internal_domains: Sequence[str]) -> \
        tuple[dict[str, str], ...]:
    """`jill@cust.com` or `Jill Doe <jill@cust.com>` → {email, name, role}; internal means an
    internal domain or a team address, as for mail (SPEC 1)."""
    team = SqlDirectory().team_addresses()
    people: dict[str, dict[str, str]] = {}
    for text in texts:
        name, email = parseaddr(text)
        if "@" not in email:
            raise TouchlogError(f"participant {text!r} is not an email address")
        internal = email.lower() in team or is_under(domain_of(email), internal_domains)
        people.setdefault(email.lower(), {"email": email, "name": name,
                                          "role": "internal" if internal else "external"})
    return tuple(people.values())


def read_files(paths: Iterable[Path]) -> tuple[tuple[str, bytes], ...]:
    """Files named on the command line (`--attach`), as (name, bytes) for keep_files."""
    files = []
    for path in paths:
        try:
            files.append((path.name, path.read_bytes()))
        except OSError as exc:
            raise TouchlogError(f"--attach {path}: cannot read: {exc.strerror}") from None
    return tuple(files)


def keep_files(files: Iterable[tuple[str, bytes]], directory: Path) -> \
        tuple[dict[str, Any], ...]:
    """(file name, bytes) kept once per sha256 under `database.attachments_dir`; the content
    type is guessed from the name, as for a file on the command line, never taken from
    whoever sent the bytes."""
    kept = []
    for name, data in files:
        sha256 = hashlib.sha256(data).hexdigest()
        keep_attachment(directory, sha256, data)
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        kept.append({"filename": name, "content_type": content_type, "size": len(data),
                     "sha256": sha256})
    return tuple(kept)


# --- the writes --------------------------------------------------------------------------------


def add_touchpoint(draft: Draft, member: TeamMember) -> Touchpoint:
    return Touchpoint.create(
        account=draft.account_id, type=draft.type, flow=draft.flow,
        reasons=list(draft.reasons), occurred_at=draft.occurred_at, subject=draft.subject,
        content=draft.content, creator=member.id, creator_email=member.email.lower(),
        creator_domain=domain_of(member.email), participants=list(draft.participants),
        attachments=list(draft.attachments), source="manual")


def edit_touchpoint(tp_id: int, member: TeamMember, changes: Changes,
                    now: datetime | None = None) -> Edit:
    tp = live_touchpoint(tp_id)
    require_creator_or_admin(tp, member, "edit")
    for name in ("type", "occurred_at", "subject", "content", "flow"):
        value = getattr(changes, name)
        if value is not None:
            setattr(tp, name, value)
    if changes.reasons is not None:
        tp.reasons = list(changes.reasons)
    tp.participants, added = participants_after(tp, changes)
    tp.updated_at = now or utcnow()
    tp.updated_by = member.email
    tp.save()
    return Edit(tp, added)


def participants_after(tp: Touchpoint, changes: Changes) -> \
        tuple[list[dict[str, str]], tuple[dict[str, str], ...]]:
    """The participants once `changes` is made, and those it adds; `tp` is left as it is."""
    current = {p["email"].lower(): p for p in tp.participants}
    for email in changes.remove_participants:
        if current.pop(email.lower(), None) is None:
            raise TouchlogError(f"{email} is not a participant of touchpoint {tp.id}")
    added = tuple(p for p in changes.add_participants if p["email"].lower() not in current)
    for person in added:
        current[person["email"].lower()] = person
    return list(current.values()), added


def delete_touchpoint(tp_id: int, member: TeamMember, now: datetime | None = None) -> Touchpoint:
    """A tombstone: gone from every list, still there for `show` and the sync."""
    tp = live_touchpoint(tp_id)
    require_creator_or_admin(tp, member, "delete")
    tp.deleted_at = now or utcnow()
    tp.deleted_by = member.email
    tp.save()
    return tp
