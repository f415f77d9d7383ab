"""One walk over a parsed MIME tree: the body text, the files, and the attached messages.

Works on the stdlib's compat32 tree (poller.mail.message builds it) and never raises on broken MIME:
whatever can be read is kept, and what went wrong is noted in `Parts.defects`.
"""

from __future__ import annotations

import binascii
import mimetypes
import re
from dataclasses import dataclass, field
from email.feedparser import FeedParser
from email.message import Message as EmailMessage
from email.policy import compat32
from typing import Any, cast

from tnefparse import TNEF

from core.charsets import b64decode, decode_bytes, decode_header_bytes, decode_words
from poller.mail import boundaries
from poller.mail.headers import Tree, content_charset, plain_tree, raw_values
from poller.mail.text import html_charset, html_to_text, tidy

TNEF_TYPE = "application/ms-tnef"
_TNEF_TYPES = {TNEF_TYPE, "application/vnd.ms-tnef"}
# Other renderings of the body text: in a losing alternative, the same words again.
_TEXT_RENDERINGS = {"text/enriched", "text/richtext", "text/rtf", "text/x-amp-html"}
_MESSAGE_TYPES = {"message/rfc822", "message/global", "message/news"}  # news: old forwards
_PARAM_HEADERS = {"content-type", "content-disposition"}
_HEADER_LINE = re.compile(rb"[!-9;-~]+[ \t]*:")
# A line of the header block that is neither a header nor a continuation (what repair_head mends).
_ODD_LINE = re.compile(rb"^(?![ \t]|[!-9;-~]+[ \t]*:)", re.M)
_ADDRESS_FIELD = re.compile(rb"(?:from|to|cc|bcc|reply-to|sender)[ \t]*:", re.I)


@dataclass
class Parts:
    """What one walk over a MIME tree collects."""

    single: bool  # the message is one part: a named text body is still the body
    pieces: list[tuple[str, str]] = field(default_factory=list)  # ("plain" | "html", text)
    html: list[str] = field(default_factory=list)
    tnef_text: list[str] = field(default_factory=list)
    files: list[tuple[str, str, bytes]] = field(default_factory=list)  # name, type, data
    inner: list[tuple[EmailMessage, bytes]] = field(default_factory=list)  # tree, raw if known
    types: list[str] = field(default_factory=list)
    charsets: list[str] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)


boundaries.install()
# Bytes handed to the parser at a time (SPEC 20: a pass holds under 4x its largest message).
_FEED = 1 << 16


def parse_tree(raw: bytes) -> EmailMessage:
    """The MIME tree (compat32, not policy.default: 4x faster, and we decode headers and parts
    ourselves). Fed in pieces: `email.message_from_bytes` copies the whole message into a
    StringIO, 4 bytes a character, so a 43 MB message took 7.75x its size at once (2.75x so)."""
    data = repair_head(raw)
    if len(data) <= _FEED:  # one part with a plain header block: read without the parser
        tree = plain_tree(data.decode("ascii", "surrogateescape"))
        if tree is not None:
            return tree
    boundaries.for_message(len(data))
    parser = FeedParser(_factory=Tree, policy=compat32)
    for start in range(0, len(data), _FEED):
        # What message_from_bytes does to the whole: bytes as ASCII, the rest kept as escapes.
        parser.feed(data[start:start + _FEED].decode("ascii", "surrogateescape"))
    return parser.close()


def repair_head(raw: bytes) -> bytes:
    """Mend header blocks the stdlib would cut short, so no address falls into the body: leading
    blank lines or a space before the first header (all read as body), an address broken across
    lines without folding whitespace (the headers end there)."""
    raw = raw.lstrip(b" \t\r\n")
    end = min((i for i in (raw.find(b"\n\n"), raw.find(b"\n\r\n")) if i >= 0), default=len(raw))
    if not _ODD_LINE.search(raw, 0, end):
        return raw  # every line a header or its continuation: one search, not two a line
    return mend_lines(raw, end)


def mend_lines(raw: bytes, end: int) -> bytes:
    """repair_head's line-by-line reading of the header block `raw[:end]`."""
    lines = raw[:end].split(b"\n")
    in_address, fixed = False, False
    for i, line in enumerate(lines):
        if line[:1] in (b" ", b"\t"):
            continue
        if _HEADER_LINE.match(line):
            in_address = bool(_ADDRESS_FIELD.match(line))
            continue
        if not (in_address and (b"@" in line or b">" in line)):
            break  # not ours to mend: the stdlib starts the body here
        lines[i], fixed = b" " + line, True
    return b"\n".join(lines) + raw[end:] if fixed else raw


def walk(tree: EmailMessage) -> Parts:
    parts = Parts(single=not tree.is_multipart())
    _walk(tree, parts, chosen=True)
    return parts


def _walk(part: EmailMessage, parts: Parts, chosen: bool) -> None:
    """`chosen` is False inside a losing alternative: its text is the same words again."""
    ctype = part.get_content_type()
    parts.defects.extend(type(defect).__name__ for defect in part.defects)
    if ctype in _MESSAGE_TYPES:
        parts.types.append(ctype)
        _attached_message(part, parts)
    elif part.is_multipart() and ctype.startswith("multipart/"):
        children = [c for c in part.get_payload() if isinstance(c, EmailMessage)]
        winner = _alternative(children) if ctype == "multipart/alternative" else None
        for child in children:
            _walk(child, parts, chosen and (winner is None or child is winner))
    else:
        parts.types.append(ctype)
        _leaf(part, ctype, parts, chosen)


def _alternative(children: list[EmailMessage]) -> EmailMessage | None:
    """The alternative we read: the plain one when it has text, else the one holding HTML."""
    for child in children:
        if child.get_content_type() == "text/plain" and str(stored_payload(child)).strip():
            return child
    for wanted in ("text/plain", "text/html"):
        for child in children:
            if any(p.get_content_type() == wanted for p in child.walk()):
                return child
    return children[-1] if children else None


def _leaf(part: EmailMessage, ctype: str, parts: Parts, chosen: bool) -> None:
    filename = _filename(part, parts.charsets[0] if parts.charsets else None)
    if ctype in _TNEF_TYPES or filename.lower() == "winmail.dat":
        _unpack_tnef(part, filename, parts)
    elif _is_body_text(part, ctype, filename, parts):
        text = _part_text(part, ctype, parts)
        if ctype == "text/html":
            parts.html.append(text)
        if chosen:
            parts.pieces.append(("html" if ctype == "text/html" else "plain", text))
    elif chosen or ctype not in _TEXT_RENDERINGS:
        parts.files.append((filename, ctype, payload_bytes(part, parts.defects)))


def _is_body_text(part: EmailMessage, ctype: str, filename: str, parts: Parts) -> bool:
    if ctype.startswith("multipart/"):
        return True  # a multipart without a usable boundary arrives as one leaf of text
    if ctype not in ("text/plain", "text/html"):
        return False
    disposition = part.get_content_disposition()
    if disposition == "attachment":
        return False
    # A named text part is a file (notes.txt), unless it is the whole message, or it is shown
    # inline before any other body text (some mailers name every part).
    return not filename or parts.single or (disposition == "inline" and not parts.pieces)


def _part_text(part: EmailMessage, ctype: str, parts: Parts) -> str:
    data = payload_bytes(part, parts.defects)
    charset = _charset(part)
    if not charset and ctype == "text/html":
        charset = html_charset(data)
    if charset:
        parts.charsets.append(charset)
    return tidy(decode_bytes(data, charset, parts.defects))


def body_text(parts: Parts) -> str:
    """The human text: plain parts as written, HTML ones (where no plain alternative) as text."""
    texts = [text if kind == "plain" else html_to_text(text) for kind, text in parts.pieces]
    text = "\n\n".join(t for t in texts if t.strip())
    if not text and parts.html:
        text = html_to_text("\n".join(parts.html))
    if not text and parts.tnef_text:
        text = "\n\n".join(parts.tnef_text)
    return text


def _attached_message(part: EmailMessage, parts: Parts) -> None:
    payload = part.get_payload()
    if isinstance(payload, list) and payload:
        inner, raw = cast(EmailMessage, payload[0]), b""
    else:  # the stdlib could not split it (broken outer MIME): read its bytes afresh
        raw = payload_bytes(part, parts.defects)
        inner = parse_tree(raw)
    if inner.keys() or str(stored_payload(inner) or "").strip():
        parts.inner.append((inner, raw))


def as_bytes(tree: EmailMessage) -> bytes:
    try:
        return tree.as_bytes()
    except Exception:  # the generator chokes on some broken trees; fall back to the body text
        return str(tree.get_payload()).encode("utf-8", "surrogateescape")


def _unpack_tnef(part: EmailMessage, filename: str, parts: Parts) -> None:
    """winmail.dat → the files inside it, and its text (used when the mail has no other)."""
    data = payload_bytes(part, parts.defects)
    try:
        tnef = TNEF(data, do_checksum=False)
    except Exception as exc:  # not TNEF after all, or truncated: keep the file as it came
        parts.defects.append(f"TnefDefect: {exc}")
        tnef = None
    inside = [item for item in tnef.attachments if item.data] if tnef else []
    for item in inside:
        name = _tnef_name(item.long_filename() or item.name)
        ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        parts.files.append((name, ctype, bytes(item.data)))
    if not inside:  # nothing we can read inside (rich text only): keep the bytes themselves
        parts.files.append((filename or "winmail.dat", TNEF_TYPE, data))
    if tnef and (tnef.body or tnef.htmlbody):
        parts.tnef_text.append(_tnef_body(tnef))


def _tnef_name(name: str | bytes) -> str:
    if isinstance(name, bytes):
        name = decode_bytes(name, None)
    return name.strip("\x00").strip() or "untitled"


def _tnef_body(tnef: TNEF) -> str:
    body, html = tnef.body, tnef.htmlbody
    if body:
        return tidy(body if isinstance(body, str) else decode_bytes(body, None))
    html = html if isinstance(html, str) else decode_bytes(html, html_charset(html))
    return html_to_text(html)


def _filename(part: EmailMessage, hint: str | None) -> str:
    """Decoded file name: RFC 2231 parameters, RFC 2047 words (Outlook) and raw 8-bit all occur."""
    if not may_name_a_file(part):
        return ""
    try:
        name = _decoded_view(part, hint).get_filename() or ""
    except Exception:  # a mangled parameter list must not cost us the part
        return ""
    return " ".join(decode_words(name).split())


def may_name_a_file(part: EmailMessage) -> bool:
    """A file name comes from Content-Disposition or a `name` parameter of Content-Type, and
    nowhere else: a part with neither (the one text part of most mail) is not asked, where
    parsing both parameter lists cost a tenth of reading a short note."""
    if raw_values(part, "content-disposition"):
        return True
    return any("name" in str(value).lower() for value in raw_values(part, "content-type"))


def _decoded_view(part: EmailMessage, hint: str | None) -> EmailMessage:
    """The part itself, or, when its MIME headers carry raw 8-bit bytes, a copy of them decoded.

    The stdlib reads parameters out of such headers with every 8-bit byte already replaced.
    """
    raw = [(k, v) for k, v in part.raw_items() if k.lower() in _PARAM_HEADERS]
    if all(isinstance(v, str) and v.isascii() for _, v in raw):
        return part
    view = EmailMessage()
    for key, value in raw:
        view[key] = decode_header_bytes(str(value), hint)
    return view


def _charset(part: EmailMessage) -> str | None:
    try:
        return content_charset(part)
    except Exception:
        return None


def stored_payload(part: EmailMessage) -> Any:
    """The payload as the parser stored it (text, or a list of parts), before get_payload()
    decodes or replaces anything; the stdlib has no public accessor for it."""
    return part._payload  # type: ignore[attr-defined]


def payload_bytes(part: EmailMessage, defects: list[str]) -> bytes:
    """The decoded bytes of a leaf, whatever its Content-Transfer-Encoding claims to be."""
    # The stored payload, not get_payload(): for 8-bit text that one has already replaced every
    # byte the declared charset does not know, before we could try another.
    payload = stored_payload(part)
    if isinstance(payload, list):  # message/delivery-status and kin arrive as header blocks
        return b"\n".join(as_bytes(block) for block in payload)
    cte = str(part.get("content-transfer-encoding", "")).lower()
    if "base64" in cte and isinstance(payload, str) and payload.isascii():
        # Decoded from the text itself: an encoded copy of a large attachment costs its size.
        return b64decode(payload, defects)
    data = (payload or "").encode("utf-8", "surrogateescape")
    if "base64" in cte:
        return b64decode(data, defects)
    if "quoted" in cte:  # also 'quoted printable' and 'quoted-printable;', seen in the wild
        return binascii.a2b_qp(data)
    if "uu" in cte:
        return cast(bytes, part.get_payload(decode=True)) or b""
    return data
