"""`touchlog import accounts|users|team FILE.csv`: validate every row, then upsert in one go.

A bad row raises ConfigError naming the file and line, and nothing is imported: every import is
one transaction. users.csv may hold a million rows, so it streams through a temporary staging
table (constant memory) and reaches the real tables in two INSERT ... SELECT statements.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from peewee import SQL, DateTimeField, IntegerField, Model, fn

from poller.addresses import ADDRESS_RE, normalize
from store.csvfile import CsvFile, ImportReport, Progress, Row, parse_when, progress_for
from store.models import Account, AccountDomain, Association, CharField, CustomerUser, database

# Rows per INSERT: under SQLite's 32,766 bound variables for the widest staging row.
CHUNK = 5_000
DOMAIN_RE = re.compile(r"(?:[a-z0-9-]+\.)+[a-z]{2,}")


# --- users.csv ----------------------------------------------------------------------------


class _UserRow(Model):
    """users.csv staged as it is read: validated rows, not yet in the directory."""

    line = IntegerField()
    email = CharField()
    email_lower = CharField()
    domain = CharField()
    account_id = CharField()
    last_activity = DateTimeField(null=True)

    class Meta:
        database = database
        table_name = "touchlog_import_users"


def import_users(path: str | Path, progress: Progress | None = None) -> ImportReport:
    """Upsert users.csv (email,account_id,last_activity): one row per association."""
    src = CsvFile(path, ("email", "account_id"), ("last_activity",))
    with database.atomic(), progress_for(src, progress) as report:
        _UserRow.create_table(safe=False, temporary=True)
        try:
            rows = _stage_users(src, report)
            _check_repeats(src)
            updated = _existing_associations()
            _insert_users()
            report.finish()
        finally:
            _UserRow.drop_table(safe=True)
    return ImportReport("users", rows, rows - updated, updated)


def _stage_users(src: CsvFile, report: Callable[[int], None]) -> int:
    accounts = {acc for (acc,) in Account.select(Account.account_id).tuples()}
    chunk: list[tuple[object, ...]] = []
    count = 0
    for row in src.rows():
        chunk.append(_user_values(src, row, accounts))
        count += 1
        if len(chunk) == CHUNK:
            _flush(chunk)
            report(count)
    _flush(chunk)
    report(count)
    return count


def _user_values(src: CsvFile, row: Row, accounts: set[str]) -> tuple[object, ...]:
    email, account_id = row.cells["email"], row.cells["account_id"]
    if not ADDRESS_RE.fullmatch(email):
        raise src.error(row.line, f"email {email!r} is not an email address")
    if account_id not in accounts:
        raise src.error(row.line, f"account_id {account_id!r} is not a known account")
    when = parse_when(src, row.line, "last_activity", row.cells.get("last_activity", ""))
    # The local part keeps its case for case_sensitive_local_part; email_lower serves the rest.
    exact = normalize(email, case_sensitive_local_part=True)
    return (row.line, exact, exact.lower(), exact.rpartition("@")[2], account_id, when)


def _flush(chunk: list[tuple[object, ...]]) -> None:
    if chunk:
        fields = [_UserRow.line, _UserRow.email, _UserRow.email_lower, _UserRow.domain,
                  _UserRow.account_id, _UserRow.last_activity]
        _UserRow.insert_many(chunk, fields=fields).execute()
        chunk.clear()


def _check_repeats(src: CsvFile) -> None:
    """One association twice in a file is a mistake to point out, not a value to pick."""
    first, last = fn.MIN(_UserRow.line), fn.MAX(_UserRow.line)
    repeat = (_UserRow.select(_UserRow.email, _UserRow.account_id, first, last)
              .group_by(_UserRow.email, _UserRow.account_id)
              .having(fn.COUNT(_UserRow.line) > 1)
              .order_by(last).limit(1).tuples().first())
    if repeat:
        email, account_id, line_a, line_b = repeat
        raise src.error(line_b, f"{email} on account {account_id!r} repeats line {line_a}")


def _existing_associations() -> int:
    return (_UserRow.select()
            .join(CustomerUser, on=(CustomerUser.email == _UserRow.email))
            .join(Association, on=((Association.user == CustomerUser.id)
                                   & (Association.account == _UserRow.account_id)))
            .count())


def _insert_users() -> None:
    people = (_UserRow.select(_UserRow.email, _UserRow.email_lower, _UserRow.domain)
              .distinct().where(SQL("1 = 1")))
    (CustomerUser
     .insert_from(people, [CustomerUser.email, CustomerUser.email_lower, CustomerUser.domain])
     .on_conflict_ignore().execute())
    # WHERE 1 = 1: SQLite needs a WHERE before an upsert's ON CONFLICT after a join.
    links = (_UserRow.select(CustomerUser.id, _UserRow.account_id, _UserRow.last_activity)
             .join(CustomerUser, on=(CustomerUser.email == _UserRow.email))
             .where(SQL("1 = 1")))
    (Association
     .insert_from(links, [Association.user, Association.account, Association.last_activity])
     .on_conflict(conflict_target=[Association.user, Association.account],
                  preserve=[Association.last_activity])
     .execute())


# --- accounts.csv -------------------------------------------------------------------------


def import_accounts(path: str | Path, progress: Progress | None = None) -> ImportReport:
    """Upsert accounts.csv (account_id,name,parent_id,email_domains,default_bcc,
    contact_matches_only). email_domains, when the column is there, replaces the declared set."""
    src = CsvFile(path, ("account_id", "name"),
                  ("parent_id", "email_domains", "default_bcc", "contact_matches_only"))
    known = {acc for (acc,) in Account.select(Account.account_id).tuples()}
    rows = _account_rows(src)
    _check_parents(src, rows, known)
    with database.atomic(), progress_for(src, progress) as report:
        for i in range(0, len(rows), CHUNK):
            _upsert_accounts(rows[i:i + CHUNK])
            report(min(i + CHUNK, len(rows)))
        report.finish()
    created = sum(1 for row in rows if row.account_id not in known)
    return ImportReport("accounts", len(rows), created, len(rows) - created)


@dataclass(frozen=True)
class _AccountRow:
    line: int
    account_id: str
    name: str
    parent_id: str | None
    domains: list[str] | None  # None: the file has no email_domains column
    default_bcc: bool
    contact_matches_only: bool


def _account_rows(src: CsvFile) -> list[_AccountRow]:
    rows: list[_AccountRow] = []
    lines: dict[str, int] = {}
    for row in src.rows():
        acc = row.cells["account_id"]
        if not acc:
            raise src.error(row.line, "account_id is empty")
        if acc in lines:
            raise src.error(row.line, f"account_id {acc!r} repeats line {lines[acc]}")
        if not row.cells["name"]:
            raise src.error(row.line, f"account {acc!r} has no name")
        lines[acc] = row.line
        rows.append(_AccountRow(row.line, acc, row.cells["name"],
                                row.cells.get("parent_id") or None, _domains(src, row),
                                _flag(src, row, "default_bcc"),
                                _flag(src, row, "contact_matches_only")))
    return rows


def _domains(src: CsvFile, row: Row) -> list[str] | None:
    """None when the file has no email_domains column: the declared domains stay as they are."""
    if "email_domains" not in row.cells:
        return None
    domains = [d.strip().lower().lstrip("@") for d in row.cells["email_domains"].split(";")]
    for domain in filter(None, domains):
        if not DOMAIN_RE.fullmatch(domain):
            raise src.error(row.line, f"email_domains: {domain!r} is not a domain")
    return sorted(set(filter(None, domains)))


def _flag(src: CsvFile, row: Row, column: str) -> bool:
    value = row.cells.get(column, "").lower()
    if value not in ("", "true", "false"):
        raise src.error(row.line, f"{column} must be true, false or empty, not {value!r}")
    return value == "true"


def _check_parents(src: CsvFile, rows: list[_AccountRow], known: set[str]) -> None:
    # A parent may come later in the same file, so parents are checked once all rows are read.
    in_file = {row.account_id for row in rows}
    for row in rows:
        parent = row.parent_id
        if parent == row.account_id:
            raise src.error(row.line, f"account {parent!r} cannot be its own parent")
        if parent is not None and parent not in in_file and parent not in known:
            raise src.error(row.line, f"parent_id {parent!r} is not a known account")


def _upsert_accounts(rows: list[_AccountRow]) -> None:
    fields = [Account.account_id, Account.name, Account.parent_id, Account.default_bcc,
              Account.contact_matches_only]
    values = [tuple(getattr(row, f.name) for f in fields) for row in rows]
    (Account.insert_many(values, fields=fields)
     .on_conflict(conflict_target=[Account.account_id], preserve=fields[1:]).execute())
    declared = [row for row in rows if row.domains is not None]
    if declared:
        ids = [row.account_id for row in declared]
        AccountDomain.delete().where(AccountDomain.account.in_(ids)).execute()
        pairs = [(row.account_id, d) for row in declared for d in row.domains or ()]
        fields = [AccountDomain.account, AccountDomain.domain]
        for i in range(0, len(pairs), CHUNK):
            AccountDomain.insert_many(pairs[i:i + CHUNK], fields=fields).execute()
