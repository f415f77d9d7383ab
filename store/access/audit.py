"""The audit trail (SPEC 21, reference 003): who read or changed what, when, from which
address. The web app adds a row for every page that shows a touchpoint's content, a failed
message or an attachment, and for every change; `touchlog audit` and `GET /audit` list them.

`object` names a thing by its id ("touchpoint 12", "failure UID 7", "account ACME"), never by
its text, so the trail holds nothing that encryption at rest would have to seal.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.utc import iso_utc, utcnow
from store.access.links import member_by_address
from store.access.models import AuditEntry


def record(member: str, action: str, obj: str, client: str,
           now: datetime | None = None) -> None:
    AuditEntry.create(at=now or utcnow(), member=member.lower(), action=action, object=obj,
                      client=client)


def entries(member: str | None = None, since: datetime | None = None,
            limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
    """Newest first, as `touchlog audit --format json` prints them. `member` may be an alias:
    rows are kept under the member's own address (a departed member's is taken as given)."""
    query = AuditEntry.select().order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if member:
        found = member_by_address(member)
        address = found.email if found is not None else member
        query = query.where(AuditEntry.member == address.strip().lower())
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    return [{"time": iso_utc(e.at), "member": e.member, "action": e.action,
             "object": e.object, "client_address": e.client} for e in query]
