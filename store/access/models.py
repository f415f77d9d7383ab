"""Who may use the web app, and what they did there (SPEC 21): sessions, sign-in links and the
audit trail. Tables of their own (registered in store.schema), so the rest of the store never
needs them.

No foreign key to the team: `import team --replace` deletes a member, and their sessions must
simply stop working (store.access.sessions checks the member on every request), while their
audit rows must stay exactly as they were written.
"""

from __future__ import annotations

from peewee import AutoField, DateTimeField, IntegerField

from core.utc import utcnow
from store.models import BaseModel, CharField


class WebSession(BaseModel):
    """A signed-in browser. The cookie holds a random value; only its keyed hash is stored, so
    reading the table signs nobody in."""

    id = AutoField()
    key_hash = CharField(unique=True)
    member_id = IntegerField()
    member_email = CharField()  # lower-case; with member_id, the person who signed in
    how = CharField(default="email")  # email | oidc
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    ended_at = DateTimeField(null=True)  # sign-out, or the member left the team

    class Meta:
        table_name = "web_session"


class SignInLink(BaseModel):
    """One request for a sign-in link, answered or not: the rate limits count these rows.
    `token_hash` is set only when a link was made (the address is a team member's, within the
    limits); the link works once, until `expires_at`."""

    id = AutoField()
    address = CharField(index=True)  # as asked, lower-case
    client = CharField(index=True)  # the client address that asked
    member_id = IntegerField(null=True)
    token_hash = CharField(null=True, unique=True)
    created_at = DateTimeField(default=utcnow, index=True)
    expires_at = DateTimeField(null=True)
    used_at = DateTimeField(null=True)

    class Meta:
        table_name = "web_sign_in_link"


class AuditEntry(BaseModel):
    """Who read or changed what, when, from where (SPEC 21, reference 003). `object` names the
    thing ("touchpoint 12", "failure UID 7"), never its text: with encryption on, the trail
    must not become a second, unsealed copy of what it protects."""

    id = AutoField()
    at = DateTimeField(default=utcnow, index=True)
    member = CharField(index=True)  # the member's address, lower-case
    action = CharField()
    object = CharField(default="")
    client = CharField(default="")

    class Meta:
        table_name = "audit"

