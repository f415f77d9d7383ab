"""Replies that join a thread (SPEC 14).

A copy mailed by `touchpoints send` carries `Reply-To: LOCAL+tp<ID>.<TOKEN>@DOMAIN`, where
LOCAL@DOMAIN is the mailbox address, ID the thread's first touchpoint and TOKEN a keyed hash of
it (HMAC-SHA256 with a secret kept in the database, cut to 20 hex digits): nobody can make up
the address of a thread, and the address of one thread opens no other. A message with such an
address in To or Cc is scenario `reply`, checked before the other scenarios.

Any `+tp` extension of the mailbox is a thread address: one whose ID is not a number touchlog
could have written (core.ids), or whose token does not match, names no thread
(`unknown_thread`) and is never looked up.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from core.ids import parse_id
from core.reasons import REPLY, THREAD, UNKNOWN_SENDER, UNKNOWN_THREAD
from store.kept import thread_secret
from store.models import Touchpoint
from store.timeline.threads import (
    TEAM_MEMBER,
    account_removed,
    answered,
    copy_mailer,
    first_of_thread,
    in_thread,
    is_customer_of,
    thread_people,
)

TOKEN_CHARS = 20
_EXTENSION = re.compile(r"^\+tp(?P<id>[^.]*)(?:\.(?P<token>.*))?$", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class ThreadAddress:
    address: str
    thread_id: int | None  # None: the address's ID is no id touchlog writes
    token: str
    written_id: str = ""  # the ID as the address wrote it, for the trace


@dataclass(frozen=True)
class Reply:
    """What the reply step decided: the thread and the parent, or why not."""

    first: Touchpoint | None
    parent_id: int | None
    failure: str | None  # unknown_thread | unknown_sender
    detail: str
    trace: dict[str, Any] = field(default_factory=dict)
    # unknown_sender: the team member who mailed the copy answered, to be told (SPEC 20).
    tell: str | None = None


def token(thread_id: int, secret: bytes | None = None) -> str:
    key = secret if secret is not None else thread_secret()
    return hmac.new(key, f"tp{thread_id}".encode(), hashlib.sha256).hexdigest()[:TOKEN_CHARS]


def reply_to(mailbox_address: str, thread_id: int) -> str:
    local, _, domain = mailbox_address.rpartition("@")
    return f"{local}+tp{thread_id}.{token(thread_id)}@{domain}"


def thread_address(emails: Iterable[str], mailbox_address: str) -> ThreadAddress | None:
    """The first address that is the mailbox's with a `+tp<ID>` extension."""
    local, _, domain = mailbox_address.lower().rpartition("@")
    for email in emails:
        left, _, right = email.strip().lower().rpartition("@")
        if right != domain or not left.startswith(local + "+"):
            continue
        match = _EXTENSION.match(left[len(local):])
        if match:
            return ThreadAddress(email, parse_id(match["id"]), match["token"] or "",
                                 match["id"])
    return None


def judge(addr: ThreadAddress, sender: str, is_member: bool,
          references: Sequence[str]) -> Reply:
    """The thread a reply joins, and whether its sender may add to it."""
    step: dict[str, Any] = {"rule": THREAD, "address": addr.address,
                            "thread_id": addr.thread_id, "sender": sender}
    trace: dict[str, Any] = {"scenario": REPLY, "candidates": [], "steps": [step]}
    if addr.thread_id is None:
        return _failed(trace, UNKNOWN_THREAD, f"{addr.address}: {addr.written_id[:40]!r} is "
                                              "not the id of a thread")
    if not _token_matches(addr):
        return _failed(trace, UNKNOWN_THREAD, f"{addr.address}: its token does not match "
                                              f"thread {addr.thread_id}")
    first = first_of_thread(addr.thread_id)
    if first is None:
        return _failed(trace, UNKNOWN_THREAD, f"{addr.address}: thread {addr.thread_id} no "
                                              "longer exists")
    step["account_id"] = first.account_id
    if account_removed(first):
        return _failed(trace, UNKNOWN_THREAD, f"{addr.address}: thread {addr.thread_id} no "
                       f"longer exists: its account {first.account_id} was removed")
    touchpoints = in_thread(first)
    sender_is = _standing(sender, is_member, touchpoints, first.account_id)
    step["sender_is"] = sender_is
    if sender_is is None:
        failure = _failed(trace, UNKNOWN_SENDER, f"{sender or 'the sender'} is no team member, "
                          f"no participant of thread {first.id} and no contact of "
                          f"{first.account_id}")
        return replace(failure, tell=copy_mailer(touchpoints, references))
    parent = answered(touchpoints, references) or first
    step.update(parent_id=parent.id, result=THREAD)
    trace.update(account_id=first.account_id, rule=THREAD, reason=None, detail="")
    return Reply(first, parent.id, None, "", trace)


def joinable(addr: ThreadAddress, account_id: str,
             references: Sequence[str]) -> tuple[Touchpoint, int] | None:
    """The thread a message assigned by hand to `account_id` joins, and the touchpoint it
    answers: its address must name, with a matching token, a live thread on that account."""
    if addr.thread_id is None or not _token_matches(addr):
        return None
    first = first_of_thread(addr.thread_id)
    if first is None or first.account_id != account_id or account_removed(first):
        return None
    parent = answered(in_thread(first), references) or first
    return first, parent.id


def _token_matches(addr: ThreadAddress) -> bool:
    assert addr.thread_id is not None
    return hmac.compare_digest(addr.token.encode(), token(addr.thread_id).encode())


def _standing(sender: str, is_member: bool, touchpoints: Sequence[Touchpoint],
              account_id: str) -> str | None:
    if is_member:
        return TEAM_MEMBER
    if sender and sender.lower() in thread_people(touchpoints):
        return "participant"
    if sender and is_customer_of(sender, account_id):
        return "customer user"
    return None


def _failed(trace: dict[str, Any], reason: str, detail: str) -> Reply:
    trace["steps"][0]["result"] = reason
    trace.update(account_id=None, rule=None, reason=reason, detail=detail)
    return Reply(None, None, reason, detail, trace)
