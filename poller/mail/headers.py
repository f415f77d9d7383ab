"""A parsed MIME part whose header lookups read a dict, not every header.

email.message.Message.get lowers the name of every header until it finds the one asked for, and
get_content_type, get_param, get_content_charset and the parser itself ask again and again: 9
lookups a tiny note, 278 str.lower calls, most of them here. `Tree` (the parser's factory, so
every part of a parsed message is one) answers each lookup from an index of the lower-cased
names built once, and rebuilt whenever the header list is no longer the one it was built from
(compared element by element, in C), so a header added, removed or replaced afterwards is seen
exactly as the stdlib would see it. tests/test_mail_headers.py compares every answer with the
stdlib's on the corpus and on hostile headers.

`content_charset` reads the charset of the common Content-Type forms itself, and leaves every
other form to the stdlib's get_content_charset (three calls deep, a tenth of a note's parse).
"""

from __future__ import annotations

import re
from email.message import Message as EmailMessage
from email.policy import compat32
from typing import Any

Item = tuple[str, Any]  # (name as written, value as stored)


class Tree(EmailMessage):
    """An email.message.Message whose `get` (and so `[]`, get_content_type, get_param ...)
    looks the name up in an index of the lower-cased names."""

    _snapshot: list[Item] | None = None
    _index: dict[str, list[int]]

    def positions(self) -> dict[str, list[int]]:
        """Lower-cased name -> the positions of every header of that name in the header list,
        in order; names in the order they first appear."""
        headers = self._headers  # type: ignore[attr-defined]
        if self._snapshot is None or self._snapshot != headers:
            index: dict[str, list[int]] = {}
            for at, item in enumerate(headers):
                index.setdefault(item[0].lower(), []).append(at)
            self._index, self._snapshot = index, list(headers)
        return self._index

    def get(self, name: str, failobj: Any = None) -> Any:
        headers = self._headers  # type: ignore[attr-defined]
        index = self._index if self._snapshot == headers else self.positions()
        found = index.get(name.lower())
        if found is None:
            return failobj
        key, value = headers[found[0]]
        if type(value) is str and value.isascii() and self.policy is compat32:
            return value  # what compat32's header_fetch_parse gives back for it
        return self.policy.header_fetch_parse(key, value)


def raw_values(part: EmailMessage, name: str) -> list[Any]:
    """Every value of the header `name` (lower-case) as stored, in order: raw_items' values."""
    if isinstance(part, Tree):
        headers = part._headers  # type: ignore[attr-defined]
        return [headers[at][1] for at in part.positions().get(name, ())]
    return [value for key, value in part.raw_items() if key.lower() == name]


def header_index(tree: EmailMessage) -> dict[str, list[str]]:
    """Lower-cased name -> every value of that name as stored (str), in order; names in the
    order they first appear."""
    index: dict[str, list[str]] = {}
    for key, value in tree.raw_items():
        index.setdefault(key.lower(), []).append(str(value))
    return index


# Content-Type with no parameter, or with exactly one charset parameter, quoted or not, and
# nothing the stdlib's parameter reading would treat specially (quotes, escapes, RFC 2231 `*`,
# folding, 8-bit bytes). The type must hold a "/": the stdlib reads a bare `charset` there as
# the parameter itself (and answers "").
_TYPE = r'[^";=\\\r\n/]*/[^";=\\\r\n]*'
_NO_PARAMS = re.compile(_TYPE + r"\Z")
_ONE_CHARSET = re.compile(_TYPE + r';[ \t]*charset[ \t]*=[ \t]*'
                          r'(?:"([A-Za-z0-9_.:+-]+)"|([A-Za-z0-9_.:+-]+))[ \t]*\Z', re.I)


def content_charset(part: EmailMessage) -> str | None:
    """What `part.get_content_charset()` answers."""
    value = part.get("content-type")
    if value is None:
        return None
    if type(value) is str and value.isascii():
        if _NO_PARAMS.match(value):
            return None
        match = _ONE_CHARSET.match(value)
        if match:
            return (match[1] or match[2]).lower()
    return part.get_content_charset()


# A header block the stdlib reads without a choice to make: every line a named field or its
# continuation, each ended by LF or CRLF (a lone CR ends a line for the parser too), then an
# empty line. No envelope `From ` line, no empty name, no line that is not a header.
_FIELD = r"([!-9;-~]+):([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)\r?\n"
_PLAIN_HEAD = re.compile(rf"(?:{_FIELD})+\r?\n")
_FIELDS = re.compile(_FIELD)


def plain_tree(text: str) -> Tree | None:
    """The tree email.feedparser builds for `text` (compat32, fed at once), when the message
    is one part and its header block is plain (above); else None, and the parser reads it.

    What the parser does for such a message: each field set as header_source_parse gives it
    (the value's leading blanks and final line break dropped), the rest of the text the
    payload, no defect. tests/test_mail_headers.py compares the two trees on the corpus, on
    hostile blocks and on random ones."""
    head = _PLAIN_HEAD.match(text)
    if head is None:
        return None
    tree = Tree(policy=compat32)
    for name, value in _FIELDS.findall(text, 0, head.end()):
        tree.set_raw(name, value.lstrip(" \t").rstrip("\r\n"))
    if tree.get_content_maintype() in ("multipart", "message"):
        return None  # parts, an attached message, a delivery status: the parser's to split
    tree.set_payload(text[head.end():])
    return tree
