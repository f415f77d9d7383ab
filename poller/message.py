"""Raw bytes → Message: the one place that reads MIME.

Everything after this module works on the frozen Message; nothing else imports mail-parser.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import getaddresses, parsedate_to_datetime

from poller.errors import MessageError


@dataclass(frozen=True)
class Address:
    email: str
    name: str = ""

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2].lower()


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int
    sha256: str
    data: bytes = field(repr=False, compare=False)


@dataclass(frozen=True)
class Message:
    key: str  # normalized Message-ID, else "sha256:<hex of the raw bytes>"
    message_id: str  # normalized Message-ID ("" when the message has none)
    subject: str  # decoded, whitespace-normalized
    sender: Address | None  # From
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    date: datetime | None  # UTC-aware; None when missing or absurd
    text: str  # the human text: the plain part, else the HTML part turned into text
    html: str  # the HTML part as sent ("" when none)
    headers: dict[str, str]  # lower-case name -> decoded value (repeated headers joined by "\n")
    content_type: str  # of the outer message, lower-case
    part_types: tuple[str, ...]  # content types of every leaf part, lower-case
    references: tuple[str, ...]  # normalized ids from In-Reply-To, then References
    attachments: tuple[Attachment, ...] = ()
    attached_messages: tuple[Message, ...] = ()  # parsed message/rfc822 parts, in order
    defects: tuple[str, ...] = ()


def normalize_message_id(value: str) -> str:
    """`<Abc@Host>` → `Abc@host`: brackets and spaces dropped; only the host is case-folded."""
    value = value.strip()
    match = re.search(r"<([^<>]+)>", value)
    if match:
        value = match.group(1)
    value = re.sub(r"\s+", "", value)
    left, at, host = value.rpartition("@")
    return f"{left}@{host.lower()}" if at else value


def message_key(message_id: str, raw: bytes) -> str:
    return message_id or "sha256:" + hashlib.sha256(raw).hexdigest()


def parse_message(raw: bytes) -> Message:
    """A first, stdlib-only reading; replaced by the mail-parser based one."""
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
    except Exception as exc:  # the parser should never raise, but a message must never crash us
        raise MessageError(f"cannot parse message: {exc}") from exc
    message_id = normalize_message_id(str(msg.get("Message-ID", "") or ""))
    body = msg.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    return Message(
        key=message_key(message_id, raw),
        message_id=message_id,
        subject=" ".join(str(msg.get("Subject", "") or "").split()),
        sender=next(iter(_addresses(msg, "From")), None),
        to=_addresses(msg, "To"),
        cc=_addresses(msg, "Cc"),
        date=_date(msg.get("Date")),
        text=text,
        html="",
        headers={k.lower(): str(v) for k, v in msg.items()},
        content_type=msg.get_content_type(),
        part_types=tuple(p.get_content_type() for p in msg.walk() if not p.is_multipart()),
        references=(),
    )


def _addresses(msg: email.message.Message, name: str) -> tuple[Address, ...]:
    values = [str(v) for v in msg.get_all(name, [])]
    return tuple(Address(addr, nm) for nm, addr in getaddresses(values) if "@" in addr)


def _date(value: object) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
