"""Message-IDs and message keys: how a message is named in the ledger, from its headers alone.

Apart from poller.mail.message (which reads the whole MIME tree) so that the commands that look a
message up by its Message-ID (explain, failures) need no mail parser.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.utils import parseaddr

from core.charsets import decode_header_bytes, subject_line

BRACKETED = re.compile(r"<([^<>]+)>")


def message_id_as_written(value: str) -> str:
    """`<Abc@Host>` → `Abc@Host`: brackets and spaces dropped, case kept (what people search
    for, and what a reply's In-Reply-To must repeat)."""
    value = value.strip()
    match = BRACKETED.search(value)
    if match:
        value = match.group(1)
    return "".join(value.split())  # what re.sub(r"\s+", "", value) gives, a third the cost


def normalize_message_id(value: str) -> str:
    """`<Abc@Host>` → `Abc@host`: brackets and spaces dropped; only the host is case-folded."""
    value = message_id_as_written(value)
    left, at, host = value.rpartition("@")
    return f"{left}@{host.lower()}" if at else value


MAX_KEY_CHARS = 255
RAW_KEY_PREFIX = "sha256:"


def raw_digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def message_key(message_id: str, raw: bytes) -> str:
    """The normalized Message-ID, else the sha256 of the bytes. A Message-ID that is absurdly
    long, or holds bytes that are no text (8-bit garbage, NUL, control characters), is hashed
    too: a key must always encode, and two such ids must never fold into one key."""
    if len(message_id) > MAX_KEY_CHARS or not message_id.isprintable() or "\ufffd" in message_id:
        digest = hashlib.sha256(message_id.encode("utf-8", "surrogatepass")).hexdigest()
        return "mid-sha256:" + digest
    return message_id or RAW_KEY_PREFIX + raw_digest(raw)


def printable(value: str) -> str:
    """A header value that can be stored and shown: raw 8-bit bytes decoded as far as they go,
    control characters (NUL included) as U+FFFD."""
    text = decode_header_bytes(value)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else "\ufffd" for c in text)


@dataclass(frozen=True)
class HeadersAlone:
    """What the headers tell of bytes that cannot be read whole (or that broke touchlog while
    they were being read): enough to key, list and answer them. Every text is printable."""

    key: str  # the key `parse_message(raw)` gives
    message_id: str  # normalized, as the ledger looks it up
    written_id: str  # as written, as a reply's In-Reply-To repeats it
    sender: str  # the From address, "" when there is none
    subject: str  # as core.charsets.subject_line shows it


def read_headers(raw: bytes) -> HeadersAlone:
    """The one reader of the headers of unparseable bytes; never raises."""
    try:
        headers = BytesHeaderParser().parsebytes(raw)
        sender = parseaddr(str(headers.get("From", "") or ""))[1]
        subject = subject_line(str(headers.get("Subject", "") or ""))
        written_id = message_id_as_written(str(headers.get("Message-ID", "") or ""))
    except Exception:  # the bytes are beyond even a header read; the key still keeps them apart
        sender, subject, written_id = "", "", ""
    message_id = normalize_message_id(written_id)
    # Raw 8-bit bytes or NUL in these headers: a key that always encodes (message_key) and
    # texts that can be stored (printable), never a crash on every pass.
    return HeadersAlone(key=message_key(message_id, raw), message_id=printable(message_id),
                        written_id=printable(written_id), sender=printable(sender),
                        subject=printable(subject))
