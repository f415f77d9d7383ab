"""Raw bytes → Message: the one place that reads MIME.

Everything after this module works on the frozen Message; nothing else imports mail-parser.

The MIME tree comes from the standard library's compat32 parser (poller.mail.parts), four times
faster than policy.default and than mail-parser's full MailParser, which also parses every
Received header we never read. mail-parser is used where it is strong: its address parser (groups,
quoted commas, encoded display names, with defects reported) and its date parser.

Attached message/rfc822 parts are the forwarded mail itself: they are parsed into
`attached_messages` and are not listed in `attachments`.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message as EmailMessage
from email.utils import parsedate_to_datetime

from mailparser.dates import parse_mail_date

from core.charsets import decode_header_bytes, header_text, subject_line, unfold
from core.errors import MessageError
from core.message_ids import (
    BRACKETED,
    message_id_as_written,
    message_key,
    normalize_message_id,
    printable,
)
from core.utc import aware_utc
from poller.mail.address_list import field_addresses
from poller.mail.headers import header_index
from poller.mail.parts import Parts, body_text, parse_tree, walk

log = logging.getLogger(__name__)


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
    written_id: str = ""  # the Message-ID as the mail wrote it (message_id_as_written)
    # Every From address and how many From headers there were: a message with two authors is
    # credited to neither (poller.understand.trust), so the first one must not be all that is kept.
    authors: tuple[Address, ...] = ()
    from_headers: int = 0


# Attached messages within attached messages (a forward of a forward of ...): read this deep,
# deeper ones are dropped and the drop is noted (TOO_DEEP), so a failure can say so. A MIME tree
# nested beyond what the parser can read at all fails parse_error instead.
MAX_DEPTH = 100
TOO_DEEP = "AttachedMessageTooDeep"
# A mail has at least one of these (RFC 5322 requires From and Date); random bytes, a PDF or a
# text file read as mail have none, and are parse_error rather than a sender we do not know.
_MAIL_HEADERS = frozenset({"from", "sender", "to", "cc", "date", "subject", "message-id",
                           "received", "return-path", "mime-version", "content-type",
                           "delivered-to", "reply-to", "in-reply-to", "references"})
Heads = dict[str, list[str]]  # poller.mail.headers.header_index
_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
_FUTURE_SLACK = timedelta(days=2)


def parse_message(raw: bytes) -> Message:
    """Read one message; only empty or unreadable input raises MessageError."""
    if not isinstance(raw, bytes | bytearray) or not raw.strip():
        raise MessageError("empty message")
    raw = bytes(raw)
    try:
        tree = parse_tree(raw)
        heads = header_index(tree)
        if _MAIL_HEADERS.isdisjoint(heads):
            raise MessageError("not a mail: no header block (From, Date, Subject, ...) at the "
                               "start of the file")
        return _build(tree, heads, raw, depth=0)
    except RecursionError as exc:
        raise MessageError("message nested too deeply to read") from exc


def _build(tree: EmailMessage, heads: Heads, raw: bytes, depth: int) -> Message:
    """`heads`: header_index(tree), from which every header is read (9 lookups a note, each
    lowering every name before: see bench/README.md)."""
    parts = walk(tree)
    hint = parts.charsets[0] if parts.charsets else None  # for raw 8-bit headers
    written_id = message_id_as_written(_first(heads, "message-id"))
    message_id = normalize_message_id(written_id)
    authors = _addresses(heads, "from", hint, parts.defects)
    sender = authors[:1]
    return Message(
        key=message_key(message_id, raw),
        message_id=printable(message_id),
        subject=_no_nul(subject_line(_first(heads, "subject"), hint)),
        sender=sender[0] if sender else None,
        to=_addresses(heads, "to", hint, parts.defects),
        cc=_addresses(heads, "cc", hint, parts.defects),
        date=_date(_first(heads, "date")),
        text=_no_nul(body_text(parts)),
        html="\n".join(parts.html),
        headers=_headers(heads, hint),
        content_type=tree.get_content_type(),
        part_types=tuple(parts.types),
        references=_references(heads),
        attachments=tuple(_attachment(*file) for file in parts.files),
        attached_messages=_inner_messages(parts, depth),
        defects=tuple(dict.fromkeys(parts.defects)),
        written_id=printable(written_id),
        authors=authors,
        from_headers=len(heads.get("from", ())),
    )


def _no_nul(text: str) -> str:
    """NUL is no character a person wrote (a base64 part can still carry one); stored as U+FFFD
    like other undecodable bytes, on every database alike (PostgreSQL text cannot hold it)."""
    return text.replace("\x00", "\ufffd")


def _inner_messages(parts: Parts, depth: int) -> tuple[Message, ...]:
    """Attached message/rfc822 parts are the forward itself: parsed, and not listed as files."""
    if parts.inner and depth >= MAX_DEPTH:
        parts.defects.append(f"{TOO_DEEP}: forwards nested more than {MAX_DEPTH} deep not read")
        return ()
    # The raw bytes only matter for the key of a message without a Message-ID (nothing looks an
    # attached message up by key): its headers do, where serializing the whole subtree at every
    # level would cost time growing with the square of the depth.
    return tuple(
        _build(tree, header_index(tree),
               raw or (b"" if tree.get("message-id") else _header_bytes(tree)), depth + 1)
        for tree, raw in parts.inner
    )


def depth_limit_hit(msg: Message) -> str:
    """Why part of the message went unread (forwards nested past MAX_DEPTH), else ""."""
    pending = [msg]
    while pending:  # a loop, not recursion: the chain may be MAX_DEPTH long
        current = pending.pop()
        for defect in current.defects:
            if defect.startswith(TOO_DEEP):
                return defect.partition(": ")[2]
        pending.extend(current.attached_messages)
    return ""


def _header_bytes(tree: EmailMessage) -> bytes:
    return "\n".join(f"{k}: {v}" for k, v in tree.raw_items()).encode("utf-8", "replace")


def _attachment(filename: str, ctype: str, data: bytes) -> Attachment:
    name = filename or "untitled" + (mimetypes.guess_extension(ctype) or ".bin")
    digest = hashlib.sha256(data).hexdigest()
    return Attachment(filename=name, content_type=ctype, size=len(data), sha256=digest, data=data)


def _first(heads: Heads, name: str) -> str:
    found = heads.get(name)
    return found[0] if found else ""


def _headers(heads: Heads, hint: str | None) -> dict[str, str]:
    """A parsed tree's names carry no whitespace (feedparser's headerRE), so `strip` never
    joins two names here that header_index kept apart."""
    headers: dict[str, str] = {}
    for name, values in heads.items():
        key = name.strip()
        text = header_text(values[0], hint).strip() if len(values) == 1 else \
            "\n".join(header_text(v, hint).strip() for v in values)
        headers[key] = f"{headers[key]}\n{text}" if key in headers else text
    return headers


def _addresses(
    heads: Heads, name: str, hint: str | None, defects: list[str]
) -> tuple[Address, ...]:
    """All addresses of a field, read by mail-parser, with a lenient pass where it gives up."""
    found: dict[str, Address] = {}
    for value in heads.get(name, ()):
        for name, email in field_addresses(unfold(decode_header_bytes(value, hint)), defects):
            found.setdefault(email.lower(), Address(email, name))
    return tuple(found.values())


_MONTHS = {m: i for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}
_PLAIN_DATE = re.compile(r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?([0-3]?\d) "
                         r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([12]\d{3}) "
                         r"([0-2]\d):([0-5]\d):([0-5]\d) ([+-])([01]\d|2[0-3])([0-5]\d)\Z")


def plain_date(value: str) -> datetime | None:
    """The UTC instant of a Date in RFC 5322's own form ("Mon, 5 Jan 2026 08:03:00 +0100"), as
    mail-parser's forensic date parser finds it at a tenth of its cost; None for any other form
    (tests/test_message.py compares the two)."""
    match = _PLAIN_DATE.match(value)
    if match is None:
        return None
    day, month, year, hour, minute, second, sign, off_hours, off_minutes = match.groups()
    try:
        local = datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute),
                         int(second), tzinfo=UTC)
    except ValueError:  # 30 Feb, 24:00
        return None
    offset = timedelta(hours=int(off_hours), minutes=int(off_minutes))
    return local - offset if sign == "+" else local + offset


def _date(value: str) -> datetime | None:
    """UTC date of the Date header; None when missing, unreadable or absurd."""
    if not value.strip():
        return None
    parsed = plain_date(value.strip()) or parse_mail_date(unfold(value)).value
    if parsed is None:
        try:
            parsed = parsedate_to_datetime(unfold(value))
        except (TypeError, ValueError, IndexError):
            return None
    parsed = aware_utc(parsed)
    if parsed < _EARLIEST or parsed > datetime.now(UTC) + _FUTURE_SLACK:
        return None
    return parsed


def _references(heads: Heads) -> tuple[str, ...]:
    """Ids named by In-Reply-To, then References; normalized, each once."""
    ids: dict[str, None] = {}
    for name in ("in-reply-to", "references"):
        for value in heads.get(name, ()):
            text = unfold(value)
            tokens = BRACKETED.findall(text) or text.split()
            for token in tokens:
                normalized = printable(normalize_message_id(token))
                if "@" in normalized:
                    ids.setdefault(normalized, None)
    return tuple(ids)
