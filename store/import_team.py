"""`touchlog import team FILE.csv`: email,name,role,aliases — the people allowed to log.

Every address (email or alias) belongs to one member only, so a sender always maps to one person.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from poller.addresses import ADDRESS_RE
from store.csvfile import CsvFile, ImportReport, Progress, Row, progress_for
from store.models import TeamAlias, TeamMember, database

ROLES = ("user", "admin")


def import_team(path: str | Path, progress: Progress | None = None) -> ImportReport:
    """Upsert team.csv; `aliases`, when the column is there, replaces a member's aliases."""
    src = CsvFile(path, ("email",), ("name", "role", "aliases"))
    rows = [_member(src, row) for row in src.rows()]
    _check_addresses(src, rows)
    known = {email for (email,) in TeamMember.select(TeamMember.email).tuples()}
    with database.atomic(), progress_for(src, progress) as report:
        _upsert_members(rows)
        report.finish()
    created = sum(1 for row in rows if row.email not in known)
    return ImportReport("team", len(rows), created, len(rows) - created)


@dataclass(frozen=True)
class _MemberRow:
    line: int
    email: str
    name: str
    role: str
    aliases: list[str] | None  # None: the file has no aliases column


def _member(src: CsvFile, row: Row) -> _MemberRow:
    email = _address(src, row, "email", row.cells["email"])
    role = row.cells.get("role", "").lower() or "user"
    if role not in ROLES:
        raise src.error(row.line, f"role must be user or admin, not {role!r}")
    aliases = None
    if "aliases" in row.cells:
        found = [a.strip() for a in row.cells["aliases"].split(";") if a.strip()]
        aliases = sorted({_address(src, row, "aliases", a) for a in found} - {email})
    return _MemberRow(row.line, email, row.cells.get("name", ""), role, aliases)


def _address(src: CsvFile, row: Row, column: str, text: str) -> str:
    if not ADDRESS_RE.fullmatch(text):
        raise src.error(row.line, f"{column}: {text!r} is not an email address")
    return text.lower()


def _check_addresses(src: CsvFile, rows: list[_MemberRow]) -> None:
    owners = _owners_in_database(rows)
    seen: dict[str, int] = {}
    for row in rows:
        for address in [row.email, *(row.aliases or ())]:
            if address in seen:
                raise src.error(row.line, f"{address} is already used on line {seen[address]}")
            seen[address] = row.line
            owner = owners.get(address)
            if owner is not None and owner != row.email:
                raise src.error(row.line,
                                f"{address} is already an address of team member {owner}")


def _owners_in_database(rows: list[_MemberRow]) -> dict[str, str]:
    """Addresses already taken, by whom; aliases this file replaces are free again."""
    replaced = {row.email for row in rows if row.aliases is not None}
    owners = {email: email for (email,) in TeamMember.select(TeamMember.email).tuples()}
    aliases = (TeamAlias.select(TeamAlias.email, TeamMember.email)
               .join(TeamMember).tuples())
    owners.update((alias, member) for alias, member in aliases if member not in replaced)
    return owners


def _upsert_members(rows: list[_MemberRow]) -> None:
    fields = [TeamMember.email, TeamMember.name, TeamMember.role]
    values = [(row.email, row.name, row.role) for row in rows]
    for i in range(0, len(values), 1000):
        (TeamMember.insert_many(values[i:i + 1000], fields=fields)
         .on_conflict(conflict_target=[TeamMember.email], preserve=fields[1:]).execute())
    replacing = [row for row in rows if row.aliases is not None]
    if not replacing:
        return
    ids = dict(TeamMember.select(TeamMember.email, TeamMember.id)
               .where(TeamMember.email.in_([row.email for row in replacing])).tuples())
    TeamAlias.delete().where(TeamAlias.member.in_(list(ids.values()))).execute()
    pairs = [(ids[row.email], alias) for row in replacing for alias in row.aliases or ()]
    if pairs:
        TeamAlias.insert_many(pairs, fields=[TeamAlias.member, TeamAlias.email]).execute()
