"""`touchlog import accounts FILE.csv`: account_id,name,parent_id,email_domains,default_bcc,
contact_matches_only (SPEC 10) and salesforce_id (SPEC 18), each column described once in COLUMNS.

A column the file leaves out keeps the stored values (new accounts get the defaults). With
`replace`, an account the file does not name is removed: its domains and contacts go, so no mail
resolves to it again, while its row stays, marked `removed_at`, so its timeline stays readable.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from core.utc import utcnow
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
from store.models import Account, AccountDomain, Association, tuples

CHUNK = 5_000  # rows per INSERT: far under SQLite's bound-variable limit
DOMAIN_RE = re.compile(r"(?:[a-z0-9-]+\.)+[a-z]{2,}")
Reader = Callable[[CsvFile, Row, str], Any]


def _text(src: CsvFile, row: Row, column: str) -> str:
    if not row.cells[column]:
        raise src.error(row.line, f"{column} is empty")
    return row.cells[column]


def _optional(src: CsvFile, row: Row, column: str) -> str | None:
    return row.cells[column] or None


def _flag(src: CsvFile, row: Row, column: str) -> bool:
    value = row.cells[column].lower()
    if value not in ("", "true", "false"):
        raise src.error(row.line, f"{column} must be true, false or empty, not {value!r}")
    return value == "true"


def _domains(src: CsvFile, row: Row, column: str) -> tuple[str, ...]:
    domains = {d.strip().lower().lstrip("@") for d in row.cells[column].split(";")} - {""}
    for domain in sorted(domains):
        if not DOMAIN_RE.fullmatch(domain):
            raise src.error(row.line, f"{column}: {domain!r} is not a domain")
    return tuple(sorted(domains))


def _salesforce_id(src: CsvFile, row: Row, column: str) -> str | None:
    """An Account Id (001…), 15 or 18 characters in any case, kept as Salesforce writes the
    18-character form: the sync's link (SPEC 15)."""
    from core.salesforce_ids import restore_case, with_suffix

    value = row.cells[column]
    if not value:
        return None
    if len(value) not in (15, 18) or not value.isalnum() or not value.startswith("001"):
        raise src.error(row.line, f"{column} {value!r} is not a Salesforce Account Id "
                                  "(15 or 18 characters starting 001)")
    return with_suffix(value) if len(value) == 15 else restore_case(value)


@dataclass(frozen=True)
class Column:
    name: str
    read: Reader
    required: bool = False
    field: bool = True  # an Account field of the same name (email_domains is its own table)


# A new column is one line here (and, when stored, a field of store.models.Account).
COLUMNS = (
    Column("account_id", _text, required=True),
    Column("name", _text, required=True),
    Column("parent_id", _optional),
    Column("email_domains", _domains, field=False),
    Column("default_bcc", _flag),
    Column("contact_matches_only", _flag),
    Column("salesforce_id", _salesforce_id),
)


def import_accounts(path: str | Path, progress: Progress | None = None,
                    options: ImportOptions = UPSERT) -> ImportReport:
    """Upsert (or with options.replace, replace by) accounts.csv; nothing when a row is wrong."""
    src = CsvFile(path, tuple(c.name for c in COLUMNS if c.required),
                  tuple(c.name for c in COLUMNS if not c.required))
    src.report = report = ImportReport("accounts", dry_run=options.dry_run)
    rows = _read(src)
    present = [c for c in COLUMNS if c.name in src.columns]
    stored = _stored(present)
    _check_parents(src, rows, {acc for acc, old in stored.items() if old["removed_at"] is None},
                   options.replace)
    src.raise_problems()
    _count(report, rows, stored, present)
    with writing(options), progress_for(src, progress) as shown:
        for i in range(0, len(rows), CHUNK):
            _upsert(rows[i:i + CHUNK], present)
            shown(min(i + CHUNK, len(rows)))
        if options.replace:
            _remove(report, [acc for acc, old in stored.items()
                             if old["removed_at"] is None and acc not in rows_by_id(rows)])
        shown.finish()
    return report


def _read(src: CsvFile) -> list[dict[str, Any]]:
    lines: dict[str, int] = {}

    def one(row: Row) -> dict[str, Any]:
        values: dict[str, Any] = {"line": row.line}
        for column in COLUMNS:
            if column.name in row.cells:
                values[column.name] = column.read(src, row, column.name)
        acc = values["account_id"]
        if acc in lines:
            raise src.error(row.line, f"account_id {acc!r} repeats line {lines[acc]}")
        lines[acc] = row.line
        return values

    return list(src.checked(src.rows(), one))


def rows_by_id(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["account_id"]: row for row in rows}


def _stored(present: list[Column]) -> dict[str, dict[str, Any]]:
    """Every account as stored, in the file's columns, to tell added from changed."""
    fields = [getattr(Account, c.name) for c in present if c.field] + [Account.removed_at]
    stored: dict[str, dict[str, Any]] = {
        values["account_id"]: values for values in cast(Any, Account.select(*fields).dicts())}
    if any(c.name == "email_domains" for c in present):
        for acc in stored.values():
            acc["email_domains"] = []
        for acc, domain in tuples(AccountDomain.select(AccountDomain.account,
                                                       AccountDomain.domain)
                                  .order_by(AccountDomain.domain)):
            stored[acc]["email_domains"].append(domain)
        for acc in stored.values():
            acc["email_domains"] = tuple(acc["email_domains"])
    return stored


def _check_parents(src: CsvFile, rows: list[dict[str, Any]], live: set[str],
                   replace: bool) -> None:
    # A parent may come later in the same file; with replace only the file's accounts remain.
    in_file = set(rows_by_id(rows))
    known = in_file if replace else in_file | live

    def one(row: dict[str, Any]) -> None:
        parent = row.get("parent_id")
        if parent == row["account_id"]:
            raise src.error(row["line"], f"account {parent!r} cannot be its own parent")
        if parent is not None and parent not in known:
            raise src.error(row["line"], f"parent_id {parent!r} is not a known account")

    list(src.checked(rows, one))


def _count(report: ImportReport, rows: list[dict[str, Any]], stored: dict[str, dict[str, Any]],
           present: list[Column]) -> None:
    report.rows = len(rows)
    names = [c.name for c in present]
    added, changed = [], []
    for row in rows:
        old = stored.get(row["account_id"])
        if old is None or old["removed_at"] is not None:
            added.append(row["account_id"])
        elif any(row[n] != old[n] for n in names):
            changed.append(row["account_id"])
    report.note("added", added)
    report.note("changed", changed)
    report.unchanged = len(rows) - len(added) - len(changed)


def _upsert(rows: list[dict[str, Any]], present: list[Column]) -> None:
    fields = [getattr(Account, c.name) for c in present if c.field] + [Account.removed_at]
    values = [tuple(row.get(f.name) for f in fields) for row in rows]  # removed_at: None
    (Account.insert_many(values, fields=fields)
     .on_conflict(conflict_target=[Account.account_id], preserve=fields[1:]).execute())
    if any(c.name == "email_domains" for c in present):
        ids = [row["account_id"] for row in rows]
        AccountDomain.delete().where(AccountDomain.account.in_(ids)).execute()
        pairs = [(row["account_id"], d) for row in rows for d in row["email_domains"]]
        for i in range(0, len(pairs), CHUNK):
            AccountDomain.insert_many(pairs[i:i + CHUNK],
                                      fields=[AccountDomain.account, AccountDomain.domain]
                                      ).execute()


def _remove(report: ImportReport, ids: list[str]) -> None:
    """The accounts the file no longer names: nothing resolves to them any more, their
    touchpoints and tasks stay on a row marked removed."""
    report.note("removed", sorted(ids))
    now = utcnow()
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i:i + CHUNK]
        AccountDomain.delete().where(AccountDomain.account.in_(chunk)).execute()
        Association.delete().where(Association.account.in_(chunk)).execute()
        Account.update(removed_at=now).where(Account.account_id.in_(chunk)).execute()
