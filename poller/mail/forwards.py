"""Forwarded messages inside a message: inline forward blocks and attached message/rfc822 parts.

A block is a header table (From plus at least one of To/Cc/Date/Sent/Subject, in any of the
languages of `forward_markers`), whatever separator line stands above it: clients differ in the
separator (dashes, an underscore rule, a sentence, nothing at all) but all write the table. A
reply that quotes earlier mail shows the same table; telling a copy from a forward is
`participants`' job, by the outer To/Cc, so every table is reported here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from poller.mail.forward_markers import (
    ATTRIBUTION_RE,
    DASHED_MARKER_RE,
    FIELD_OF_LABEL,
    GLUED_LABEL_RE,
    LABEL_LINE_RE,
    OTHER_HEADER_RE,
)
from poller.mail.forward_people import People, parse_people
from poller.mail.message import Address, Message
from poller.mail.text import html_to_text

_QUOTE_RE = re.compile(r"^[\s>]*")
_ADDRESS_FIELDS = ("from", "to", "cc")


@dataclass(frozen=True)
class Forwarded:
    sender: Address | None
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    subject: str
    date: str
    names_only: bool  # the block named people but showed no address at all
    source: str  # "inline" | "html" | "attached"
    names: tuple[str, ...] = ()  # people the block named without an address, for notices


def find_forwards(msg: Message) -> list[Forwarded]:
    """The forwarded messages, outermost first: inline blocks in body order, then attachments
    (each followed by the forwards found inside it)."""
    blocks = _inline_blocks(msg)
    for attached in msg.attached_messages:
        blocks.append(_from_attached(attached))
        blocks.extend(find_forwards(attached))
    return blocks


def _inline_blocks(msg: Message) -> list[Forwarded]:
    from_html = bool(msg.html) and "text/plain" not in msg.part_types
    source = "html" if from_html else "inline"
    blocks = blocks_in_text(msg.text, source)
    if not blocks and msg.html and not from_html:
        # The plain part may be a stub ("view this in HTML") while the HTML keeps the table.
        blocks = blocks_in_text(html_to_text(msg.html), "html")
    return blocks


def blocks_in_text(text: str, source: str = "inline") -> list[Forwarded]:
    """Forward blocks in a plain text body, in order; reply attribution lines only when the text
    holds no header table at all."""
    lines = _prepared_lines(text)
    blocks: list[Forwarded] = []
    index = 0
    while index < len(lines):
        fields, index = _read_table(lines, index)
        if fields is not None and _is_forward_table(fields):
            blocks.append(_block(fields, source))
    return blocks or _attribution_blocks(lines, source)


def _prepared_lines(text: str) -> list[str]:
    """Lines without quote marks or indentation; a Yahoo one-line table split into fields."""
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = _QUOTE_RE.sub("", raw.replace("\ufeff", "").replace("\u200b", "")).rstrip()
        marker = DASHED_MARKER_RE.match(line)
        if marker and marker.group("rest"):
            lines.append(marker.group("marker"))
            lines.extend(part.strip() for part in GLUED_LABEL_RE.split(marker.group("rest")))
        else:
            lines.append(line)
    return lines


def _read_table(lines: list[str], index: int) -> tuple[dict[str, str] | None, int]:
    """The header table starting at `index` as {field: value}, and where reading stopped."""
    first = LABEL_LINE_RE.match(lines[index])
    if not first:
        return None, index + 1
    fields: dict[str, str] = {}
    field = FIELD_OF_LABEL[first.group("label").lower()]
    fields[field] = first.group("value")
    index += 1
    while index < len(lines) and lines[index]:
        line = lines[index]
        label = LABEL_LINE_RE.match(line)
        if label:
            field = FIELD_OF_LABEL[label.group("label").lower()]
            if field in fields:  # a second From: starts the next table
                break
            fields[field] = label.group("value")
        elif OTHER_HEADER_RE.match(line) and not _unfinished(fields.get(field, "")):
            field = "other"
        elif _continues(field, fields.get(field, ""), line, _next(lines, index)):
            fields[field] = _join(fields.get(field, ""), line)
        else:
            break
        index += 1
    return fields, index


def _next(lines: list[str], index: int) -> str:
    return lines[index + 1] if index + 1 < len(lines) else ""


def _continues(field: str, value: str, line: str, next_line: str) -> bool:
    """Whether `line` is the wrapped rest of `field`: it is when more table follows it, or when
    an address list is visibly unfinished or the line carries an address."""
    if field == "other":
        return False
    if LABEL_LINE_RE.match(next_line):
        return True
    if field in _ADDRESS_FIELDS:
        return _unfinished(value) or "@" in line
    return False


def _unfinished(value: str) -> bool:
    # A list ending in a separator or an opened bracket, or an address cut after "-", "@", ".".
    return value.rstrip().endswith((",", ";", "<", "[", "-", "@")) or value.endswith(".")


def _join(value: str, line: str) -> str:
    # A break inside an address ("lists.linux-" / "foundation.org") must not become a space.
    if value.endswith(("@", ".", "-")) or line.startswith(("@", ".")):
        return value + line.strip()
    return f"{value} {line.strip()}".strip()


def _is_forward_table(fields: dict[str, str]) -> bool:
    named = {"to", "cc", "date", "subject"} & fields.keys()
    return bool(fields.get("from", "").strip()) and bool(named)


def _block(fields: dict[str, str], source: str) -> Forwarded:
    sender = parse_people(fields.get("from", ""))
    to = parse_people(fields.get("to", ""))
    cc = parse_people(fields.get("cc", ""))
    names = sender.names + to.names + cc.names
    shows_address = bool(sender.addresses or to.addresses or cc.addresses)
    return Forwarded(
        sender=sender.addresses[0] if sender.addresses else None,
        to=to.addresses,
        cc=cc.addresses,
        subject=" ".join(fields.get("subject", "").split()),
        date=" ".join(fields.get("date", "").split()),
        names_only=bool(names) and not shows_address,
        source=source,
        names=names,
    )


def _attribution_blocks(lines: list[str], source: str) -> list[Forwarded]:
    """"On <date>, Jill <jill@cust.com> wrote:" (possibly over two lines) → a sender-only block."""
    blocks: list[Forwarded] = []
    for index, line in enumerate(lines):
        if not (":" in line or "：" in line) or not ATTRIBUTION_RE.search(line):
            continue  # the colon first: the regex needs one, and is slow to find it has none
        text = line if "@" in line or index == 0 else f"{lines[index - 1]} {line}"
        people = parse_people(text)
        if people.addresses:
            sender = Address(people.addresses[0].email, _attribution_name(text, people))
            blocks.append(Forwarded(sender, (), (), "", "", False, source))
    return blocks


def _attribution_name(text: str, people: People) -> str:
    # The name in "On <date>, "Jill" <jill@x> wrote:" is the quoted part, else what follows
    # the date's last comma; without either it is mixed up with the date and left out.
    quoted = re.search(r'["«„“]\s*([^"«»„”“]+?)\s*["»”]', text)
    if quoted:
        return quoted.group(1)
    name = people.addresses[0].name
    return name.rsplit(",", 1)[-1].strip() if "," in name else ""


def _from_attached(attached: Message) -> Forwarded:
    return Forwarded(
        sender=attached.sender,
        to=attached.to,
        cc=attached.cc,
        subject=attached.subject,
        date=attached.headers.get("date", ""),
        names_only=False,
        source="attached",
    )
