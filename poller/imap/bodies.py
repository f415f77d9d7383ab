"""A batch's whole messages in one UID FETCH, read without imapclient's general parser.

imapclient tokenizes every FETCH response item by item in Python and parses INTERNALDATE with
its own date parser: on a pass of tiny notes that was a twentieth of the pass's own process, the
one place that is serial. The answer to our one command has one shape (per message a head with
UID, FLAGS and INTERNALDATE in any order, the body as a literal, a closing tail), so it is read
directly; anything else (another literal, an unsolicited FETCH, an odd date) is handed to
imapclient's parser as before, so a server we have not met costs speed, never a message.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from imapclient import IMAPClient
from imapclient.response_parser import parse_fetch_response

from core.utc import aware_utc

ITEMS = "(BODY.PEEK[] INTERNALDATE FLAGS)"

# What one message's answer holds besides its body: (raw, INTERNALDATE, FLAGS) by UID.
Bodies = dict[int, tuple[bytes, datetime | None, tuple[bytes, ...]]]

_HEAD = re.compile(rb"\d+ \((.*)BODY\[\] \{\d+\}\Z", re.S)
_UID = re.compile(rb"(?:^|[ (])UID (\d+)")
_FLAGS = re.compile(rb"(?:^|[ (])FLAGS \(([^()]*)\)")
_DATE = re.compile(rb'(?:^|[ (])INTERNALDATE "([^"]*)"')
_MONTHS = {m: n for n, m in enumerate(
    (b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
     b"Dec"), start=1)}


def fetch_bodies(client: IMAPClient, uids: list[int]) -> Bodies:
    """UID FETCH (BODY.PEEK[] INTERNALDATE FLAGS) of `uids`; a UID the server did not answer
    with a body is left out. Errors are imapclient's (the caller's guard names them)."""
    imap: Any = client._imap
    tag = imap._command("UID", "FETCH", ",".join(map(str, uids)), ITEMS)
    typ, data = imap._command_complete("FETCH", tag)
    client._checkok("fetch", typ, data)
    typ, data = imap._untagged_response(typ, data, "FETCH")
    wanted = set(uids)
    found = read_bodies(data)
    if found is None:
        found = _through_imapclient(data, client.normalise_times)
    return {uid: item for uid, item in found.items() if uid in wanted}


def read_bodies(data: list[Any]) -> Bodies | None:
    """The untagged FETCH responses as imaplib hands them; None for any shape but ours."""
    found: Bodies = {}
    items = iter(data)
    for item in items:
        if not isinstance(item, tuple) or len(item) != 2:
            return None
        head, body = item
        tail = next(items, None)
        match = _HEAD.match(head) if isinstance(head, bytes) else None
        if match is None or not isinstance(tail, bytes) or not tail.endswith(b")"):
            return None
        rest = match.group(1) + tail[:-1]
        uid, flags, date = _UID.search(rest), _FLAGS.search(rest), _DATE.search(rest)
        when = _date(date.group(1)) if date else None
        if uid is None or flags is None or date is None or when is None:
            return None
        found[int(uid.group(1))] = (bytes(body), when, tuple(flags.group(1).split()))
    return found


def _date(text: bytes) -> datetime | None:
    """INTERNALDATE ("07-Dec-2026 03:04:05 +0100", the day maybe space-padded) as UTC."""
    try:
        day, month, rest = text.strip().split(b"-", 2)
        year, clock, zone = rest.split(b" ")
        hour, minute, second = clock.split(b":")
        if zone[:1] not in (b"+", b"-") or len(zone) != 5:
            return None
        sign = -1 if zone[:1] == b"-" else 1
        offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5])) * sign
        moment = datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute),
                          int(second), tzinfo=timezone(offset))
    except (ValueError, KeyError):
        return None
    return moment.astimezone(UTC)


def _through_imapclient(data: list[Any], normalise_times: bool) -> Bodies:
    found: Bodies = {}
    for uid, item in parse_fetch_response(data, normalise_times, True).items():
        body = item.get(b"BODY[]")
        if body is not None:
            found[uid] = (bytes(body), aware_utc(item.get(b"INTERNALDATE")),
                          tuple(item.get(b"FLAGS", ())))
    return found
