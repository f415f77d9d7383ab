"""The Peewee models: the customer directory, the timeline, and the message ledger.

The database is bound late (`database.initialize(...)` in store.db) so tests bind the models to a
fresh file. Lists and traces are JSON text: they are written once and read whole, never queried.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import peewee
from peewee import (
    AutoField,
    BooleanField,
    DatabaseProxy,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

database = DatabaseProxy()


def utcnow() -> datetime:
    """Naive UTC: every datetime in the database is UTC without tzinfo, on SQLite and PostgreSQL."""
    return datetime.now(UTC).replace(tzinfo=None)


class CharField(peewee.CharField):
    """VARCHAR without a length: SQLite never enforced Peewee's default 255, and on PostgreSQL
    a longer Message-ID, sender or account name must not fail the message or the import."""

    def get_modifiers(self) -> None:
        return None


class JSONField(TextField):
    def db_value(self, value: Any) -> str | None:
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    def python_value(self, value: str | None) -> Any:
        return None if value is None else json.loads(value)


class BaseModel(Model):
    class Meta:
        database = database


# --- the directory -------------------------------------------------------------------------


class Account(BaseModel):
    account_id = CharField(primary_key=True)
    name = CharField()
    parent_id = CharField(null=True)
    default_bcc = BooleanField(default=False)
    contact_matches_only = BooleanField(default=False)


class AccountDomain(BaseModel):
    """A domain an account declares in `email_domains` (lower-case)."""

    account = ForeignKeyField(Account, backref="domains", on_delete="CASCADE")
    domain = CharField(index=True)

    class Meta:
        indexes = ((("account", "domain"), True),)


class CustomerUser(BaseModel):
    """A known external person. `email` keeps the local part's case, `email_lower` is for the
    default case-insensitive comparison, `domain` drives the domain pass."""

    id = AutoField()
    email = CharField(unique=True)
    email_lower = CharField(index=True)
    domain = CharField(index=True)


class Association(BaseModel):
    user = ForeignKeyField(CustomerUser, backref="associations", on_delete="CASCADE")
    account = ForeignKeyField(Account, backref="associations", on_delete="CASCADE", index=True)
    last_activity = DateTimeField(null=True)

    class Meta:
        indexes = ((("user", "account"), True),)


class TeamMember(BaseModel):
    id = AutoField()
    email = CharField(unique=True)  # lower-case
    name = CharField(default="")
    role = CharField(default="user")


class TeamAlias(BaseModel):
    member = ForeignKeyField(TeamMember, backref="aliases", on_delete="CASCADE")
    email = CharField(unique=True)  # lower-case


# --- the timeline ---------------------------------------------------------------------------


class Touchpoint(BaseModel):
    id = AutoField()
    account = ForeignKeyField(Account, backref="touchpoints")
    type = CharField(default="email")
    flow = CharField()
    reasons = JSONField(default=list)
    occurred_at = DateTimeField()
    subject = TextField(default="")
    content = TextField(default="")
    creator = ForeignKeyField(TeamMember, backref="touchpoints")
    # The creator's domain, copied so the domain_history tie-break is one indexed range scan.
    creator_domain = CharField()
    participants = JSONField(default=list)  # [{email, name, role}]
    attachments = JSONField(default=list)  # [{filename, content_type, size, sha256}]
    message_key = CharField(unique=True)
    message_id = CharField(null=True, index=True)
    mailbox = CharField(default="")
    uid = IntegerField(null=True)
    scenario = CharField()
    rule = CharField()
    trace = JSONField(default=dict)
    thread_id = IntegerField(null=True)
    parent = ForeignKeyField("self", null=True, backref="replies")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = (
            (("creator", "account", "created_at"), False),
            (("creator_domain", "account", "created_at"), False),
            (("account", "occurred_at"), False),
        )


# --- the ledger: one row per message key ----------------------------------------------------


class MessageRecord(BaseModel):
    """What happened to a message, committed before the message is moved (SPEC section 7)."""

    key = CharField(unique=True)
    message_id = CharField(null=True)
    outcome = CharField()  # logged | skipped | failed
    reason = CharField(null=True)  # the rule, skip reason or failure reason code
    detail = TextField(default="")
    trace = JSONField(default=dict)
    touchpoint = ForeignKeyField(Touchpoint, null=True, backref="records")
    sender = CharField(default="")
    subject = TextField(default="")
    date = DateTimeField(null=True)
    mailbox = CharField(default="")
    uid = IntegerField(null=True)
    attempts = IntegerField(default=1)
    processed_at = DateTimeField(default=utcnow)


class Notice(BaseModel):
    """A failure notice; `pending` until the SMTP server took it, retried on every pass."""

    id = AutoField()
    record = ForeignKeyField(MessageRecord, backref="notices", on_delete="CASCADE")
    to_address = CharField(index=True)
    subject = TextField()
    body = TextField()
    in_reply_to = CharField(null=True)
    status = CharField(default="pending", index=True)  # pending|sent|suppressed|withdrawn
    attempts = IntegerField(default=0)
    last_error = TextField(default="")
    created_at = DateTimeField(default=utcnow)
    sent_at = DateTimeField(null=True, index=True)


class Run(BaseModel):
    """One poll pass: when, what came of each message, and what went wrong."""

    id = AutoField()
    started_at = DateTimeField(default=utcnow)
    finished_at = DateTimeField(null=True)
    counts = JSONField(default=dict)
    errors = JSONField(default=list)
    status = CharField(default="running")  # running | done | error


class Lease(BaseModel):
    """Who is polling a mailbox right now. Two concurrent MOVEs of one UID can leave the message
    twice in the destination, so one pass per mailbox at a time; a crashed holder's lease
    simply expires."""

    name = CharField(primary_key=True)
    holder = CharField()
    expires_at = DateTimeField()


MODELS = [Account, AccountDomain, CustomerUser, Association, TeamMember, TeamAlias, Touchpoint,
          MessageRecord, Notice, Run, Lease]
