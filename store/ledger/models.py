"""The message ledger's models: what happened to each message (one row per message key), its
failure notices, the poll passes, and the messages that broke touchlog."""

from __future__ import annotations

from peewee import SQL, AutoField, DateTimeField, ForeignKeyField, IntegerField, TextField

from core.message_ids import RAW_KEY_PREFIX
from core.utc import utcnow
from store.encryption.sealed import SealedJSONField, SealedMixin, SealedTextField
from store.models import BaseModel, CharField, JSONField, Touchpoint


class MessageRecord(SealedMixin, BaseModel):
    """What happened to a message, committed before the message is moved (SPEC section 7)."""

    id = AutoField()
    key = CharField(unique=True)
    message_id = CharField(null=True)  # as the mail wrote it; indexed for twins only (below)
    outcome = CharField()  # logged | skipped | failed
    reason = CharField(null=True)  # the rule, skip reason or failure reason code
    detail = SealedTextField(default="")
    trace = SealedJSONField(default=dict)
    touchpoint = ForeignKeyField(Touchpoint, null=True, backref="records")
    touchpoint_id: int | None  # the key column peewee adds; declared for mypy
    sender = CharField(default="")
    subject = SealedTextField(default="")
    date = DateTimeField(null=True)
    mailbox = CharField(default="")
    uid = IntegerField(null=True)
    attempts = IntegerField(default=1)
    processed_at = DateTimeField(default=utcnow)
    # The sha256 of the raw bytes (NULL in rows of an older touchlog): a failed record is taken
    # up again only by these very bytes, never by another message reusing its Message-ID.
    raw_sha256 = CharField(null=True)


# A record under the sha256 of its message's bytes (store.ledger.records.place) whose Message-ID
# is set is a twin: another message took that Message-ID's key first. Twins are the rows that
# share a Message-ID with another (records.reused_message_ids asks), so only they are indexed by
# it: every other message's record keeps one index fewer. Written out, not bound as parameters,
# so that both databases see the query's condition is the index's own.
RAW_KEYED = SQL(f"substr(\"key\", 1, {len(RAW_KEY_PREFIX)}) = '{RAW_KEY_PREFIX}'")
MessageRecord.add_index(MessageRecord.index(MessageRecord.message_id, name="rec_twin_message_id")
                        .where(RAW_KEYED))


class Notice(SealedMixin, BaseModel):
    """A failure notice; `pending` until the SMTP server took it, retried on every pass; `failed`
    when the server refused it permanently `notify.max_attempts` times."""

    id = AutoField()
    record = ForeignKeyField(MessageRecord, backref="notices", on_delete="CASCADE")
    record_id: int  # the key column peewee adds; declared for mypy
    to_address = CharField(index=True)
    subject = SealedTextField()
    body = SealedTextField()
    in_reply_to = CharField(null=True)
    # pending | sent | suppressed | withdrawn | cancelled | failed
    status = CharField(default="pending", index=True)
    # Why its recipient was chosen (poller.notify.recipients): member | internal | unverified;
    # "" for a notice queued by an older touchlog.
    kind = CharField(default="")
    attempts = IntegerField(default=0)
    last_error = TextField(default="")
    created_at = DateTimeField(default=utcnow)
    sent_at = DateTimeField(null=True, index=True)


class Run(SealedMixin, BaseModel):
    """One poll pass: when, what came of each message, and what went wrong."""

    id = AutoField()
    started_at = DateTimeField(default=utcnow)
    finished_at = DateTimeField(null=True)
    counts = JSONField(default=dict)  # written after every batch, so a killed run keeps them
    errors = SealedJSONField(default=list)
    status = CharField(default="running")  # running | done | stopped | error | killed
    # The mailbox the pass held the lock of, and who held it: a `running` row of this mailbox
    # that the next lock holder finds belongs to a worker that died (closed as `killed`).
    mailbox = CharField(null=True, index=True)
    holder = CharField(null=True)


class BrokenMessage(SealedMixin, BaseModel):
    """A message that broke touchlog (an unexpected error while deciding or writing it): how
    often, so that after `mailbox.max_attempts` tries it fails as `internal_error` (SPEC 17)."""

    key = CharField(unique=True)
    tries = IntegerField(default=0)
    last_error = SealedTextField(default="")  # an exception's text may quote the message
    last_at = DateTimeField(default=utcnow)
