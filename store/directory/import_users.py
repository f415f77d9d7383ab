"""`touchlog import users FILE.csv`: email,account_id,last_activity, one row per association.

users.csv may hold a million rows, so it streams through a temporary staging table (constant
memory) and reaches the real tables in a few INSERT ... SELECT statements. Every wrong row is
reported and nothing is imported; the whole import is one transaction. Under the default
case-insensitive comparison, spellings of one address (X@Alpha.com, x@alpha.com) are one
customer user: the directory's spelling, else the file's first, and each merge is a warning.
With `replace`, associations the file does not list are removed, and people left without one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from peewee import JOIN, SQL, DateTimeField, IntegerField, Model, fn

from core.addresses import ADDRESS_RE, has_plus, normalize, strip_plus
from store.directory.csvfile import (
    MAX_SHOWN,
    UPSERT,
    CsvFile,
    ImportOptions,
    ImportReport,
    Progress,
    Row,
    parse_when,
    progress_for,
    writing,
)
from store.models import Account, Association, CharField, CustomerUser, database, tuples

# Rows per INSERT: under SQLite's 32,766 bound variables for the widest staging row.
CHUNK = 5_000


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


def import_users(path: str | Path, progress: Progress | None = None,
                 options: ImportOptions = UPSERT) -> ImportReport:
    """Upsert (or with options.replace, replace by) users.csv; nothing when a row is wrong."""
    src = CsvFile(path, ("email", "account_id"), ("last_activity",))
    src.report = report = ImportReport("users", dry_run=options.dry_run)
    with writing(options), progress_for(src, progress) as shown:
        _UserRow.create_table(safe=False, temporary=True)
        try:
            report.rows = _stage_users(src, shown, options)
            _index_staged()
            if not options.case_sensitive_local_part:
                _merge_spellings(src)
            _check_repeats(src)
            src.raise_problems()
            _count(report)
            if options.replace:
                _remove_unlisted(report)
            _insert_users()
            shown.finish()
        finally:
            _UserRow.drop_table(safe=True)
    return report


def _stage_users(src: CsvFile, shown: Callable[[int], None], options: ImportOptions) -> int:
    accounts = {acc for (acc,) in tuples(Account.select(Account.account_id)
                                          .where(Account.removed_at.is_null()))}
    chunk: list[tuple[object, ...]] = []
    count = 0
    for values in src.checked(src.rows(), lambda row: _user_values(src, row, accounts, options)):
        chunk.append(values)
        count += 1
        if len(chunk) == CHUNK:
            _flush(chunk)
            shown(count)
    _flush(chunk)
    shown(count)
    return count


def _user_values(src: CsvFile, row: Row, accounts: set[str],
                 options: ImportOptions) -> tuple[object, ...]:
    email, account_id = row.cells["email"], row.cells["account_id"]
    if not ADDRESS_RE.fullmatch(email):
        raise src.error(row.line, f"email {email!r} is not an email address")
    if account_id not in accounts:
        raise src.error(row.line, f"account_id {account_id!r} is not a known account")
    when = parse_when(src, row.line, "last_activity", row.cells.get("last_activity", ""))
    # The local part keeps its case for case_sensitive_local_part; email_lower serves the rest.
    exact = normalize(email, case_sensitive_local_part=True)
    if has_plus(exact):
        _warn_plus(src, row.line, exact, options.plus_addresses)
    return (row.line, exact, exact.lower(), exact.rpartition("@")[2], account_id, when)


def _warn_plus(src: CsvFile, line: int, email: str, mode: str) -> None:
    """Mail is never looked up with a +extension, so such a contact can never match."""
    how = ("mail to it is left out" if mode == "reject"
           else f"mail to it is looked up as {strip_plus(email)}")
    src.warn(line, f"{email} has a +extension and can never match (plus_addresses = "
                   f"\"{mode}\": {how}); import it as {strip_plus(email)}")


def _flush(chunk: list[tuple[object, ...]]) -> None:
    if chunk:
        fields = [_UserRow.line, _UserRow.email, _UserRow.email_lower, _UserRow.domain,
                  _UserRow.account_id, _UserRow.last_activity]
        _UserRow.insert_many(chunk, fields=fields).execute()
        chunk.clear()


def _index_staged() -> None:
    """Indexes made once the rows are in (faster than kept up while inserting): the merge,
    repeat and change queries look staged rows up by address."""
    table = _UserRow._meta.table_name
    for name, columns in (("lower", "email_lower, line"), ("pair", "email, account_id")):
        database.execute_sql(f'CREATE INDEX "{table}_{name}" ON "{table}" ({columns})')


def _merge_spellings(src: CsvFile) -> None:
    """One person, one customer user: a staged address takes the directory's spelling when it
    has one, else the spelling of its first line in the file. Each merge is a warning. Each
    step first asks whether there is anything to merge: usually there is not."""
    differ = (CustomerUser.email_lower == _UserRow.email_lower) & \
        (CustomerUser.email != _UserRow.email)
    if _UserRow.select(_UserRow.line).join(CustomerUser, on=differ).exists():
        known = (CustomerUser.select(fn.MIN(CustomerUser.email))
                 .where(CustomerUser.email_lower == _UserRow.email_lower))
        _warn_merges(src, _UserRow.select(_UserRow.line, _UserRow.email, known.alias("kept"))
                     .where(_UserRow.email != known), "already in the directory as")
        _UserRow.update(email=known).where(fn.EXISTS(known), _UserRow.email != known).execute()
    spellings = (_UserRow.select(_UserRow.email_lower).group_by(_UserRow.email_lower)
                 .having(fn.COUNT(_UserRow.email.distinct()) > 1))
    if spellings.exists():
        first = _UserRow.alias("first")
        kept = (first.select(first.email).where(first.email_lower == _UserRow.email_lower)
                .order_by(first.line).limit(1))
        _warn_merges(src, _UserRow.select(_UserRow.line, _UserRow.email, kept.alias("kept"))
                     .where(_UserRow.email != kept), "the same person as")
        _UserRow.update(email=kept).where(_UserRow.email != kept).execute()


def _warn_merges(src: CsvFile, query: Any, words: str) -> None:
    shown = list(query.order_by(_UserRow.line).limit(MAX_SHOWN).tuples())
    for line, email, kept in shown:
        src.warn(line, f"{email} is {words} {kept} (case_sensitive_local_part = false): "
                       "merged into one customer user")
    if len(shown) == MAX_SHOWN and src.report is not None:
        src.report.more_warnings += query.count() - MAX_SHOWN


def _check_repeats(src: CsvFile) -> None:
    """One association twice in a file is a mistake to point out, not a value to pick."""
    first, last = fn.MIN(_UserRow.line), fn.MAX(_UserRow.line)
    repeats = (_UserRow.select(_UserRow.email, _UserRow.account_id, first, last)
               .group_by(_UserRow.email, _UserRow.account_id)
               .having(fn.COUNT(_UserRow.line) > 1))
    shown = list(tuples(repeats.order_by(last).limit(MAX_SHOWN)))
    for email, account_id, line_a, line_b in shown:
        src.problem(src.error(line_b, f"{email} on account {account_id!r} repeats line "
                                      f"{line_a}"))
    if len(shown) == MAX_SHOWN:
        src.more_problems += repeats.count() - MAX_SHOWN


def _pairs() -> Any:
    """Staged rows with the association they would update (NULL columns when new)."""
    return (_UserRow
            .select()
            .join(CustomerUser, JOIN.LEFT_OUTER, on=(CustomerUser.email == _UserRow.email))
            .join(Association, JOIN.LEFT_OUTER,
                  on=((Association.user == CustomerUser.id)
                      & (Association.account == _UserRow.account_id))))


def _count(report: ImportReport) -> None:
    def label(query: Any) -> list[str]:
        rows = query.order_by(_UserRow.line).limit(MAX_SHOWN).tuples()
        return [f"{email} on {account_id}" for email, account_id in rows]

    new = _pairs().where(Association.id.is_null())
    old, new_when = Association.last_activity, _UserRow.last_activity
    # Spelled out for SQL's NULLs: a date set, cleared or moved is a change.
    differs = ((old != new_when) | (old.is_null() & new_when.is_null(False))
               | (old.is_null(False) & new_when.is_null()))
    changed = _pairs().where(Association.id.is_null(False), differs)
    cells = (_UserRow.email, _UserRow.account_id)
    report.note("added", label(new.select(*cells)))
    report.added = new.count()
    report.note("changed", label(changed.select(*cells)))
    report.changed = changed.count()
    report.unchanged = report.rows - report.added - report.changed


def _remove_unlisted(report: ImportReport) -> None:
    """Associations the file does not list, then people left without any account."""
    listed = (_UserRow.select(SQL("1"))
              .join(CustomerUser, on=(CustomerUser.email == _UserRow.email))
              .where(CustomerUser.id == Association.user,
                     _UserRow.account_id == Association.account))
    gone = Association.select(Association.id).where(~fn.EXISTS(listed))
    shown = tuples(gone.select(CustomerUser.email, Association.account).join(CustomerUser)
                   .order_by(CustomerUser.email, Association.account).limit(MAX_SHOWN))
    report.note("removed", [f"{email} on {account_id}" for email, account_id in shown])
    report.removed = gone.count()
    Association.delete().where(Association.id.in_(gone)).execute()
    orphans = CustomerUser.select(CustomerUser.id).join(
        Association, JOIN.LEFT_OUTER).where(Association.id.is_null())
    CustomerUser.delete().where(CustomerUser.id.in_(orphans)).execute()


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
