"""IMAP wire helpers for poller.imap.session: UID sets, error wording, envelope decoding.

Pure functions, no session: kept apart so session.py reads as the session alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from imapclient.exceptions import IMAPClientError

from core.utc import aware_utc
from poller.net.network_errors import describe_network

# RFC 7162 asks clients to keep command lines under 8,192 octets; sets are chunked to stay below.
MAX_UIDS_PER_COMMAND = 1000


@dataclass(frozen=True)
class Fetched:
    """One message as the server served it: UID, raw bytes, INTERNALDATE, flags."""

    uid: int
    raw: bytes
    internal_date: datetime | None  # UTC-aware
    flags: tuple[str, ...]
    size: int = 0  # RFC822.SIZE, when it was asked for
    # False: `raw` holds only some header fields (a message not to be read whole, SPEC 20).
    whole: bool = True


@dataclass(frozen=True)
class FolderEntry:
    """One message of a folder as `failures` lists it: its UID, flags and date, no body."""

    uid: int
    flags: tuple[str, ...]
    date: datetime | None  # Date header in UTC, else the internal date
    sender: str  # the From address ("" when there is none)
    subject: str  # RFC 2047 decoded, whitespace-normalized
    message_id: str  # normalized like the ledger's (core.message_ids.normalize_message_id)


def uid_set(uids: Iterable[int]) -> str:
    """UIDs as a compact IMAP set: [1, 2, 3, 7] -> "1:3,7"."""
    ranges: list[list[int]] = []
    for uid in sorted(set(uids)):
        if ranges and uid == ranges[-1][1] + 1:
            ranges[-1][1] = uid
        else:
            ranges.append([uid, uid])
    return ",".join(str(a) if a == b else f"{a}:{b}" for a, b in ranges)


def imap_error_text(exc: BaseException) -> str:
    """One plain line for a network, TLS or IMAP error."""
    network = describe_network(exc)
    if network is not None:
        return network
    if isinstance(exc, IMAPClientError):
        text = str(exc).strip()
        if text.startswith("b'") or text.startswith('b"'):
            text = text[2:-1]
        return f"server said: {text}" if text else "server refused the command"
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__



def text_of(value: bytes | str | None) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value or ""


def folder_entry(uid: int, item: dict[bytes, Any]) -> FolderEntry:
    envelope = item[b"ENVELOPE"]
    sender = ""
    if envelope.from_:
        first = envelope.from_[0]
        sender = f"{text_of(first.mailbox)}@{text_of(first.host)}" if first.host else ""
    return FolderEntry(
        uid=uid, flags=flags_of(item.get(b"FLAGS", ())),
        date=aware_utc(envelope.date) or aware_utc(item.get(b"INTERNALDATE")),
        sender=sender, subject=_subject(envelope.subject),
        message_id=_normalized_id(text_of(envelope.message_id)))


def _subject(value: bytes | str | None) -> str:
    """Read as the ledger reads the same header (core.charsets.subject_line), so `failures`
    and `explain` show one subject: raw 8-bit bytes kept for it to decode."""
    from core.charsets import subject_line

    if isinstance(value, bytes):
        value = value.decode("utf-8", "surrogateescape")
    return subject_line(value or "")


def _normalized_id(value: str) -> str:
    # Imported here: the parser's module is heavy, and a pass that lists no folder needs none.
    from core.message_ids import normalize_message_id

    return normalize_message_id(value)


def flags_of(raw: Iterable[bytes | str]) -> tuple[str, ...]:
    return tuple(text_of(flag) for flag in raw)


def server_folder(name: str, prefix: str, delimiter: str | None) -> str:
    """A settings folder name ("Touchpoints/Logged") in the server's delimiter, inside its
    personal namespace prefix."""
    server = name.strip("/")
    if delimiter and delimiter != "/":
        server = server.replace("/", delimiter)
    if prefix and not server.startswith(prefix) and server.upper() != prefix.upper():
        server = prefix + server
    return server


def selectable(folders: dict[str, tuple[bytes, ...]], name: str) -> bool:
    flags = {f.lower() for f in folders.get(name, (b"\\noselect",))}
    return b"\\noselect" not in flags and b"\\nonexistent" not in flags


def uid_chunks(uids: Iterable[int]) -> Iterator[str]:
    ordered = sorted(set(uids))
    for start in range(0, len(ordered), MAX_UIDS_PER_COMMAND):
        yield uid_set(ordered[start:start + MAX_UIDS_PER_COMMAND])


def expand_uid_set(chunk: str) -> set[int]:
    uids: set[int] = set()
    for part in chunk.split(","):
        low, _, high = part.partition(":")
        uids.update(range(int(low), int(high or low) + 1))
    return uids
