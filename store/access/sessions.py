"""Web sessions (SPEC 21), kept server-side so that signing out and expiry are real: the
cookie is a random value, the table holds its keyed hash, the member and the end.

Every request finds its member again (`current`): a member removed from the team (`import team
--replace`) has no row any more and is signed out there and then; a role change shows at once
because the role is read, never remembered.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from store.access.keys import keyed_hash
from store.access.models import WebSession
from store.models import TeamMember

# Ended and expired sessions are kept this long (who was signed in when), then dropped.
KEEP_ENDED = timedelta(days=90)


def start_session(member: TeamMember, hours: int, key: bytes, now: datetime,
                  how: str = "email") -> str:
    """A new session for `member`: the cookie's value (never stored as it is)."""
    _forget_old(now)
    value = secrets.token_urlsafe(32)
    WebSession.create(key_hash=keyed_hash(key, value), member_id=member.id,
                      member_email=member.email.lower(), how=how, created_at=now,
                      expires_at=now + timedelta(hours=hours))
    return value


def current(value: str, key: bytes, now: datetime) -> tuple[WebSession, TeamMember] | None:
    """The live session a cookie names and its member as the team is now; None when it names
    none, has ended or expired, or its member left the team (the session ends then)."""
    if not value or len(value) > 100:
        return None
    session = WebSession.get_or_none(WebSession.key_hash == keyed_hash(key, value))
    if session is None or session.ended_at is not None or session.expires_at <= now:
        return None
    member = TeamMember.get_or_none(TeamMember.id == session.member_id)
    if member is None or member.email.lower() != session.member_email:
        end_session(session, now)
        return None
    return session, member


def end_session(session: WebSession, now: datetime) -> None:
    WebSession.update(ended_at=now).where(WebSession.id == session.id,
                                          WebSession.ended_at.is_null()).execute()


def _forget_old(now: datetime) -> None:
    WebSession.delete().where(WebSession.expires_at < now - KEEP_ENDED).execute()
