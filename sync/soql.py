"""Every SOQL statement the sync sends, built from settings and watermarks (pure functions).

Contract tests assert these strings exactly (tests/test_sync_soql.py), and the fake Salesforce
evaluates them, so a change here is a change of what touchlog asks Salesforce.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime

EVENT_FIELDS = ("Id", "IsDeleted", "AccountId", "Subject", "Description", "ActivityDateTime",
                "ActivityDate", "CreatedDate", "CreatedBy.Email", "LastModifiedDate",
                "LastModifiedBy.Email", "SystemModstamp")
TASK_FIELDS = ("Id", "IsDeleted", "AccountId", "Subject", "Description", "Priority", "Status",
               "IsClosed", "ActivityDate", "Owner.Email", "CreatedDate", "CreatedBy.Email",
               "LastModifiedDate", "LastModifiedBy.Email", "SystemModstamp")
# IN lists stay far below SOQL's 100,000 characters and the URL limits of a GET.
MAX_IN = 200


def literal(value: object) -> str:
    """A SOQL literal: quoted and escaped text, UTC datetimes with Z, ISO dates, null."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        when = value.astimezone(UTC) if value.tzinfo else value
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float):
        return str(value)
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def in_list(values: Iterable[object]) -> str:
    return "(" + ", ".join(literal(v) for v in values) + ")"


def changed_since(sobject: str, fields: Iterable[str], external_id_field: str,
                  since: datetime | None, inbound_filter: str = "") -> str:
    """Inbound: records on an Account changed from `since` on (the watermark less the
    lookback), oldest first, so each committed page can move the watermark. Sent to queryAll,
    so deleted records come too."""
    where = [] if since is None else [f"SystemModstamp >= {literal(since)}"]
    where.append("AccountId != null")
    if inbound_filter.strip():
        where.append(f"({inbound_filter.strip()})")
    columns = ", ".join([*fields, external_id_field])
    return (f"SELECT {columns} FROM {sobject} WHERE {' AND '.join(where)} "
            "ORDER BY SystemModstamp, Id")


def users_by_email(emails: Iterable[str]) -> str:
    return f"SELECT Id, Email FROM User WHERE IsActive = true AND Email IN {in_list(emails)}"


def contacts_by_email(emails: Iterable[str]) -> str:
    return f"SELECT Id, Email, AccountId FROM Contact WHERE Email IN {in_list(emails)}"


def current(sobject: str, fields: Iterable[str], external_id_field: str,
            ids: Iterable[str]) -> str:
    """Outbound, before updating records already linked: how Salesforce holds them now, to
    see whether they changed there too (a conflict) or were deleted (sent to queryAll)."""
    columns = ", ".join([*fields, external_id_field])
    return f"SELECT {columns} FROM {sobject} WHERE Id IN {in_list(ids)}"
