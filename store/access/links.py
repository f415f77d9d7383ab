"""Sign-in by a one-time link (SPEC 21): asking for one, and spending it.

A link is valid 15 minutes and works once; only its keyed hash is stored. At most 5 links per
member an hour and 30 requests per client address an hour: past either, no link is made (the
page says the same to everyone, so it tells nobody who is on the team).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from store.access.keys import keyed_hash
from store.access.models import SignInLink
from store.models import TeamAlias, TeamMember, database

LINK_LIFETIME = timedelta(minutes=15)
LINKS_PER_MEMBER_PER_HOUR = 5
REQUESTS_PER_CLIENT_PER_HOUR = 30
_HOUR = timedelta(hours=1)
_MAX_ADDRESS = 320  # RFC 5321's longest address: anything longer is no member's


@dataclass(frozen=True)
class NewLink:
    token: str  # goes into the mail, never into the database
    member: TeamMember
    address: str  # where the mail goes: the address asked for (the member's or an alias)


def member_by_address(address: str) -> TeamMember | None:
    """The team member with this address or alias (case-insensitive), as the team is now."""
    address = address.strip().lower()  # both tables keep addresses lower-case
    member = TeamMember.get_or_none(TeamMember.email == address)
    if member is None:
        alias = TeamAlias.get_or_none(TeamAlias.email == address)
        member = TeamMember.get_or_none(TeamMember.id == alias.member_id) if alias else None
    return member


def ask_for_link(address: str, client: str, key: bytes, now: datetime) -> NewLink | None:
    """Note the request; a new link when `address` is a team member's and neither limit is
    reached, else None. Every request counts towards its client's limit."""
    address = address.strip().lower()[:_MAX_ADDRESS]
    since = now - _HOUR
    SignInLink.delete().where(SignInLink.created_at < now - timedelta(days=1)).execute()
    with database.atomic():
        asked = (SignInLink.select().where(SignInLink.client == client,
                                           SignInLink.created_at > since).count())
        member = member_by_address(address) if "@" in address else None
        made = 0 if member is None else (
            SignInLink.select().where(SignInLink.member_id == member.id,
                                      SignInLink.token_hash.is_null(False),
                                      SignInLink.created_at > since).count())
        allowed = (member is not None and asked < REQUESTS_PER_CLIENT_PER_HOUR
                   and made < LINKS_PER_MEMBER_PER_HOUR)
        token = secrets.token_urlsafe(32) if allowed else None
        SignInLink.create(address=address, client=client, created_at=now,
                          member_id=member.id if member else None,
                          token_hash=keyed_hash(key, token) if token else None,
                          expires_at=now + LINK_LIFETIME if token else None)
    return NewLink(token, member, address) if token and member else None


def usable(token: str, key: bytes, now: datetime) -> bool:
    """Whether the link would still sign someone in (looking spends nothing)."""
    return _live(token, key, now) is not None


def spend_link(token: str, key: bytes, now: datetime) -> TeamMember | None:
    """The member the link signs in, once: it is marked used whether or not that member is
    still on the team. None for a link that is unknown, used, expired or whose member left."""
    link = _live(token, key, now)
    if link is None:
        return None
    spent = (SignInLink.update(used_at=now)
             .where(SignInLink.id == link.id, SignInLink.used_at.is_null()).execute())
    if spent != 1:  # another request spent it a moment ago
        return None
    return TeamMember.get_or_none(TeamMember.id == link.member_id)


def _live(token: str, key: bytes, now: datetime) -> SignInLink | None:
    if not token or len(token) > 100:
        return None
    link = SignInLink.get_or_none(SignInLink.token_hash == keyed_hash(key, token))
    if link is None or link.used_at is not None or link.expires_at is None \
            or link.expires_at <= now:
        return None
    return link
