"""`touchlog import team FILE.csv`: email,name,role,aliases — the people allowed to log.

Every address (email or alias) belongs to one member only, so a sender always maps to one person.
A column the file leaves out keeps the stored values. With `replace`, a member the file does not
name is removed with their aliases, so they no longer log; their touchpoints and tasks keep
the address (creator_email, assignee_email) and stay on the timeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.addresses import ADDRESS_RE
from store.directory.csvfile import (
    UPSERT,
    CsvFile,
    ImportOptions,
    ImportReport,
    Progress,
    Row,
    progress_for,
    writing,
)
from store.models import Task, TeamAlias, TeamMember, Touchpoint, tuples

ROLES = ("user", "admin")


@dataclass(frozen=True)
class _MemberRow:
    line: int
    email: str
    name: str | None  # None: the file has no such column (the stored value stays)
    role: str | None
    aliases: tuple[str, ...] | None


def import_team(path: str | Path, progress: Progress | None = None,
                options: ImportOptions = UPSERT) -> ImportReport:
    """Upsert (or with options.replace, replace by) team.csv; `aliases`, when the column is
    there, replaces a member's aliases. Nothing is imported when a row is wrong."""
    src = CsvFile(path, ("email",), ("name", "role", "aliases"))
    src.report = report = ImportReport("team", dry_run=options.dry_run)
    rows = list(src.checked(src.rows(), lambda row: _member(src, row)))
    stored = _stored()
    leaving = sorted(set(stored) - {row.email for row in rows}) if options.replace else []
    _check_addresses(src, rows, set(leaving))
    src.raise_problems()
    _count(report, rows, stored)
    with writing(options), progress_for(src, progress) as shown:
        _upsert_members(rows)
        if leaving:
            _remove(report, leaving)
        shown.finish()
    return report


def _member(src: CsvFile, row: Row) -> _MemberRow:
    email = _address(src, row, "email", row.cells["email"])
    role = row.cells.get("role")
    if role is not None:
        role = role.lower() or "user"
        if role not in ROLES:
            raise src.error(row.line, f"role must be user or admin, not {role!r}")
    aliases = None
    if "aliases" in row.cells:
        found = [a.strip() for a in row.cells["aliases"].split(";") if a.strip()]
        aliases = tuple(sorted({_address(src, row, "aliases", a) for a in found} - {email}))
    return _MemberRow(row.line, email, row.cells.get("name"), role, aliases)


def _address(src: CsvFile, row: Row, column: str, text: str) -> str:
    if not ADDRESS_RE.fullmatch(text):
        raise src.error(row.line, f"{column}: {text!r} is not an email address")
    return text.lower()


def _stored() -> dict[str, tuple[str, str, tuple[str, ...]]]:
    """Every member as stored: email → (name, role, aliases)."""
    aliases: dict[int, list[str]] = {}
    for member_id, alias in tuples(TeamAlias.select(TeamAlias.member, TeamAlias.email)
                                   .order_by(TeamAlias.email)):
        aliases.setdefault(member_id, []).append(alias)
    return {email: (name, role, tuple(aliases.get(mid, ())))
            for mid, email, name, role in tuples(TeamMember.select(
                TeamMember.id, TeamMember.email, TeamMember.name, TeamMember.role))}


def _check_addresses(src: CsvFile, rows: list[_MemberRow], leaving: set[str]) -> None:
    owners = _owners_in_database(rows, leaving)
    seen: dict[str, int] = {}

    def one(row: _MemberRow) -> None:
        for address in [row.email, *(row.aliases or ())]:
            if address in seen:
                raise src.error(row.line, f"{address} is already used on line {seen[address]}")
            seen[address] = row.line
            owner = owners.get(address)
            if owner is not None and owner != row.email:
                raise src.error(row.line,
                                f"{address} is already an address of team member {owner}")

    list(src.checked(rows, one))


def _owners_in_database(rows: list[_MemberRow], leaving: set[str]) -> dict[str, str]:
    """Addresses already taken, by whom; aliases this file replaces, and the addresses of
    members it removes, are free again."""
    replaced = {row.email for row in rows if row.aliases is not None} | leaving
    owners = {email: email for (email,) in tuples(TeamMember.select(TeamMember.email))
              if email not in leaving}
    aliases = tuples(TeamAlias.select(TeamAlias.email, TeamMember.email).join(TeamMember))
    owners.update((alias, member) for alias, member in aliases if member not in replaced)
    return owners


def _count(report: ImportReport, rows: list[_MemberRow],
           stored: dict[str, tuple[str, str, tuple[str, ...]]]) -> None:
    report.rows = len(rows)
    added = [row.email for row in rows if row.email not in stored]
    changed = [row.email for row in rows if row.email in stored and _differs(row, stored)]
    report.note("added", added)
    report.note("changed", changed)
    report.unchanged = len(rows) - len(added) - len(changed)


def _differs(row: _MemberRow, stored: dict[str, tuple[str, str, tuple[str, ...]]]) -> bool:
    name, role, aliases = stored[row.email]
    return any(new is not None and new != old
               for new, old in ((row.name, name), (row.role, role), (row.aliases, aliases)))


def _upsert_members(rows: list[_MemberRow]) -> None:
    # Columns the file has are written; the others keep what is stored (defaults when new).
    for column in ("name", "role"):
        fields = [TeamMember.email, getattr(TeamMember, column)]
        values = [(row.email, getattr(row, column)) for row in rows
                  if getattr(row, column) is not None]
        for i in range(0, len(values), 1000):
            (TeamMember.insert_many(values[i:i + 1000], fields=fields)
             .on_conflict(conflict_target=[TeamMember.email], preserve=fields[1:]).execute())
    new = [(row.email,) for row in rows]
    for i in range(0, len(new), 1000):
        TeamMember.insert_many(new[i:i + 1000], fields=[TeamMember.email]) \
            .on_conflict_ignore().execute()
    replacing = [row for row in rows if row.aliases is not None]
    if not replacing:
        return
    ids: dict[str, int] = dict(tuples(
        TeamMember.select(TeamMember.email, TeamMember.id)
        .where(TeamMember.email.in_([row.email for row in replacing]))))
    TeamAlias.delete().where(TeamAlias.member.in_(list(ids.values()))).execute()
    pairs = [(ids[row.email], alias) for row in replacing for alias in row.aliases or ()]
    if pairs:
        TeamAlias.insert_many(pairs, fields=[TeamAlias.member, TeamAlias.email]).execute()


def _remove(report: ImportReport, emails: list[str]) -> None:
    """Members the file no longer names: they and their aliases no longer log; what they
    created keeps their address and stays on the timeline."""
    report.note("removed", emails)
    members: dict[int, str] = dict(tuples(TeamMember.select(TeamMember.id, TeamMember.email)
                                          .where(TeamMember.email.in_(emails))))
    for mid, email in members.items():
        Touchpoint.update(creator=None, creator_email=email).where(
            Touchpoint.creator == mid).execute()
        Task.update(assignee=None, assignee_email=email).where(Task.assignee == mid).execute()
        Task.update(assigner=None, assigner_email=email).where(Task.assigner == mid).execute()
    ids = list(members)
    TeamAlias.delete().where(TeamAlias.member.in_(ids)).execute()
    TeamMember.delete().where(TeamMember.id.in_(ids)).execute()
