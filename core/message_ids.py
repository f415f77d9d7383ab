"""Message-IDs and message keys: how a message is named in the ledger, from its headers alone.

Apart from poller.mail.message (which reads the whole MIME tree) so that the commands that look a
message up by its Message-ID (explain, failures) need no mail parser.
"""

from __future__ import annotations

import hashlib
import re
from email.parser import BytesHeaderParser

from core.charsets import decode_header_bytes


def message_id_as_written(value: str) -> str:
    """`<Abc@Host>` → `Abc@Host`: brackets and spaces dropped, case kept (what people search
    for, and what a reply's In-Reply-To must repeat)."""
    value = value.strip()
    match = re.search(r"<([^<>]+)>", value)
    if match:
        value = match.group(1)
    return re.sub(r"\s+", "", value)


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


def key_of(raw: bytes) -> str:
    """The key `parse_message(raw)` gives, from the headers alone: for bytes that cannot be
    read whole, or that broke touchlog while they were being read."""
    try:
        headers = BytesHeaderParser().parsebytes(raw)
        message_id = normalize_message_id(str(headers.get("Message-ID", "") or ""))
    except Exception:  # beyond even a header read: the bytes are the key
        message_id = ""
    return message_key(message_id, raw)
