"""The Peewee models: the customer directory, the timeline and tasks (the message ledger's are
in store.ledger.models, and the list of every table in store.schema).

The database is bound late (`database.initialize(...)` in store.db) so tests bind the models to a
fresh file. Lists and traces are JSON text: they are written once and read whole, never queried.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import peewee
from peewee import (
    AutoField,
    BooleanField,
    DatabaseProxy,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from core.jsontext import json_text
from core.utc import utcnow
from store.encryption.sealed import SealedJSONField, SealedMixin, SealedTextField
from store.statements import Savepoint


class _Database(DatabaseProxy):
    """The models' database. A nested `atomic()` is a savepoint whose statements skip peewee's
    layers (store.statements), always under one name: peewee names each by a uuid4, so the
    driver prepares its SAVEPOINT and RELEASE afresh for every message of a pass, where one text
    is prepared once. Both SQLite and PostgreSQL release or roll back to the most recent
    savepoint of a name, and savepoints nest strictly (context managers), so one name is
    enough."""

    def savepoint(self) -> Any:
        return Savepoint(self, "s")


database = _Database()


class CharField(peewee.CharField):
    """VARCHAR without a length: SQLite never enforced Peewee's default 255, and on PostgreSQL
    a longer Message-ID, sender or account name must not fail the message or the import."""

    def get_modifiers(self) -> None:
        return None


class JSONField(TextField):
    def db_value(self, value: Any) -> str | None:
        return None if value is None else json_text(value)

    def python_value(self, value: str | None) -> Any:
        return None if value is None else json.loads(value)


def tuples(query: Any) -> Iterator[tuple[Any, ...]]:
    """The rows of a query as plain tuples (`.tuples()`); peewee's types only know models."""
    return iter(query.tuples())


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
    # Set when `import accounts --replace` left it out: no mail resolves to it any more (its
    # domains and contacts are gone), its timeline stays readable. Importing it again clears it.
    removed_at = DateTimeField(null=True)
    # The Account's Id in Salesforce (18 characters, as Salesforce writes it): the sync's link.
    salesforce_id = CharField(null=True)


class AccountDomain(BaseModel):
    """A domain an account declares in `email_domains` (lower-case)."""

    account = ForeignKeyField(Account, backref="domains", on_delete="CASCADE")
    account_id: str  # the key column peewee adds; declared for mypy
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
    id = AutoField()
    user = ForeignKeyField(CustomerUser, backref="associations", on_delete="CASCADE")
    user_id: int  # the key column peewee adds; declared for mypy
    account = ForeignKeyField(Account, backref="associations", on_delete="CASCADE", index=True)
    account_id: str  # the key column peewee adds; declared for mypy
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
    member_id: int  # the key column peewee adds; declared for mypy
    email = CharField(unique=True)  # lower-case


# --- the timeline ---------------------------------------------------------------------------

# Where a touchpoint came from (SPEC 13): logged from mail, added by hand, or synced in.
SOURCES = ("email", "manual", "salesforce")
INTERNAL_NOTE = "internal_note"  # the type that is not a touch (SPEC 13)


class Touchpoint(SealedMixin, BaseModel):
    """One interaction on an account's timeline.

    `creator` is the team member who logged it, or NULL when the creator is an address that is
    no team member (a record synced from Salesforce, a customer's reply to a thread);
    `creator_email` always holds the address, so the timeline needs no join. A deleted
    touchpoint keeps its row (`deleted_at`, `deleted_by`): the sync must learn of the delete.
    """

    id = AutoField()
    # No index of their own on the foreign keys (nor on the columns NULL in almost every row):
    # the composite and partial indexes below serve every query and the foreign-key checks.
    account = ForeignKeyField(Account, backref="touchpoints", index=False)
    account_id: str  # the key column peewee adds; declared for mypy
    type = CharField(default="email")
    flow = CharField()
    reasons = JSONField(default=list)
    occurred_at = DateTimeField()
    subject = SealedTextField(default="")
    content = SealedTextField(default="")
    creator = ForeignKeyField(TeamMember, backref="touchpoints", null=True, index=False)
    creator_id: int | None  # the key column peewee adds; declared for mypy
    creator_email = CharField(default="")  # lower-case
    # The creator's domain, copied so the domain_history tie-break is one indexed range scan.
    creator_domain = CharField()
    participants = SealedJSONField(default=list)  # [{email, name, role}]
    # Sealed too: a file's name and type tell what it is, and its plain sha256 would name the
    # file kept under a keyed hash (SPEC 20); sealed with the row, no one without the key can
    # point a touchpoint at another kept file.
    attachments = SealedJSONField(default=list)  # [{filename, content_type, size, sha256}]
    # Set for mail (logged by the poller); NULL for a touchpoint added by hand or synced in.
    message_key = CharField(unique=True, null=True)
    message_id = CharField(null=True)  # indexed with the account: tp_message_account below
    # The Message-ID as the mail wrote it (message_id is normalized, for matching): what
    # `touchpoints` shows. NULL in rows logged before it was kept; they show message_id.
    written_message_id = CharField(null=True)
    mailbox = CharField(default="")
    uid = IntegerField(null=True)
    scenario = CharField(null=True)  # reply | copy | forward | note; NULL unless from mail
    rule = CharField(null=True)  # the rule that chose the account; NULL when added by hand
    trace = SealedJSONField(default=dict)
    thread_id = IntegerField(null=True)
    parent = ForeignKeyField("self", null=True, backref="replies", index=False)
    parent_id: int | None  # the key column peewee adds; declared for mypy
    created_at = DateTimeField(default=utcnow)
    source = CharField(default="email")  # email | manual | salesforce
    updated_at = DateTimeField(null=True)  # NULL until changed
    updated_by = CharField(null=True)  # an address (Salesforce's may be no team member)
    external_id = CharField(null=True)  # the Salesforce Id, lower-case; unique: tp_external
    deleted_at = DateTimeField(null=True)
    deleted_by = CharField(null=True)


# Every logged message pays for every index, so there are as few as the queries need
# (bench/bench_inserts.py measures each). The history tie-breaks, the timeline and the accounts
# summary never see a tombstone: partial indexes over the live rows, or a trailing `deleted_at`
# that SQLite filters in the index and counts as covering (plans: tests/test_schema.py). The two
# full ones also serve the foreign-key checks of a deleted account or member, and `import team`
# finding a removed member's touchpoints: no database answers those from a partial index on
# `deleted_at`, and a foreign key's own index would only duplicate them (tests/test_indexes.py).
# Explicit names: an earlier schema's indexes on the same columns, under peewee's generated
# names or earlier ones here, are dropped by store.migrate.
_LIVE = Touchpoint.deleted_at.is_null()
for _name, _columns, _where in (
        ("tp_sender_history", (Touchpoint.creator, Touchpoint.account, Touchpoint.created_at,
                               Touchpoint.deleted_at), None),
        ("tp_live_domain_history", (Touchpoint.creator_domain, Touchpoint.account,
                                    Touchpoint.created_at, Touchpoint.deleted_at), _LIVE),
        ("tp_live_account_timeline", (Touchpoint.account, Touchpoint.occurred_at, Touchpoint.id),
         _LIVE),
        ("tp_account_type", (Touchpoint.account, Touchpoint.type, Touchpoint.occurred_at,
                             Touchpoint.id, Touchpoint.deleted_at), None),
        ("tp_live_timeline", (Touchpoint.occurred_at, Touchpoint.id), _LIVE)):
    _index = Touchpoint.index(*_columns, name=_name)
    Touchpoint.add_index(_index.where(_where) if _where is not None else _index)
# thread_parent (a reply's references on its account, per message) and lookups by Message-ID:
# a few index probes, however long the account's history.
Touchpoint.add_index(Touchpoint.index(Touchpoint.message_id, Touchpoint.account,
                                      name="tp_message_account"))
# Columns NULL in the rows of mail that is no reply and in every row not synced in: indexed
# where they are set, which is all a lookup by them (`= ?`, `IN`) and a foreign-key check of
# the parent read. The Salesforce Id stays unique (NULLs never were constrained).
for _column, _name, _unique in ((Touchpoint.thread_id, "tp_thread", False),
                                (Touchpoint.parent, "tp_parent", False),
                                (Touchpoint.external_id, "tp_external", True)):
    Touchpoint.add_index(Touchpoint.index(_column, name=_name, unique=_unique)
                         .where(_column.is_null(False)))


class TouchpointMail(BaseModel):
    """A copy of a touchpoint that `touchpoints send` mailed: its Message-ID lets a reply to
    that copy find the touchpoint it answers (SPEC 14)."""

    id = AutoField()
    touchpoint = ForeignKeyField(Touchpoint, backref="mails", on_delete="CASCADE")
    touchpoint_id: int  # the key column peewee adds; declared for mypy
    message_id = CharField(unique=True)
    audience = CharField()  # internal | external | me
    recipients = JSONField(default=list)
    sent_by = CharField()
    sent_at = DateTimeField(default=utcnow)


# --- tasks (SPEC 13) -------------------------------------------------------------------------

PRIORITIES = ("High", "Normal", "Low")


class Task(SealedMixin, BaseModel):
    """A follow-up. `assignee`/`assigner` are team members; the *_email columns keep the
    address when the member is unknown (a task synced from Salesforce), as for a creator."""

    id = AutoField()
    account = ForeignKeyField(Account, backref="tasks")
    account_id: str  # the key column peewee adds; declared for mypy
    title = SealedTextField()
    description = SealedTextField(default="")
    priority = CharField(default="Normal")
    status = CharField(default="Open", index=True)
    due_date = DateField(null=True)
    assignee = ForeignKeyField(TeamMember, null=True, backref="assigned_tasks")
    assignee_id: int | None  # the key column peewee adds; declared for mypy
    assignee_email = CharField(default="")
    assigner = ForeignKeyField(TeamMember, null=True, backref="given_tasks")
    assigner_id: int | None  # the key column peewee adds; declared for mypy
    assigner_email = CharField(default="")
    flow = CharField(null=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(null=True)
    updated_by = CharField(null=True)
    completed_at = DateTimeField(null=True)
    followup = ForeignKeyField(Touchpoint, null=True, backref="completed_tasks")
    followup_id: int | None  # the key column peewee adds; declared for mypy
    external_id = CharField(null=True, unique=True)  # the Salesforce Id, lower-case
    deleted_at = DateTimeField(null=True)
    deleted_by = CharField(null=True)


class KeptValue(BaseModel):
    """Small named values touchlog keeps once per database in clear: the schema fingerprint
    store.migrate compares on open (touchlog's own secrets are store.kept's, sealed)."""

    name = CharField(primary_key=True)
    value = TextField()


class KeyCheck(SealedMixin, BaseModel):
    """One value sealed with the database's key: opening it proves a key file is the right
    one before a command writes anything (SPEC 12)."""

    id = AutoField()
    value = SealedTextField()
