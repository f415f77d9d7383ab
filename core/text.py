"""Stored text as a screen may show it (SPEC 20, "Text is shown as text").

Anything touchlog prints may have been written by a stranger: a subject, a name, a Salesforce
value, a failure's detail. A control character in it could drive the operator's terminal (ESC,
OSC and CSI sequences change the title, clear the screen, draw a link that says one thing and
opens another), and a bidi override could make it read other than it is. Such characters are
shown as escapes (`\\x1b`, `\\u202e`), so the text stays whole, readable and inert; tab and
newline are kept. The web app escapes HTML itself; this rule applies there too.
"""

from __future__ import annotations

import re

# C0 but tab and newline, DEL and C1; the bidi marks, embeddings, overrides and isolates; the
# line and paragraph separators (a line break a terminal does not show as one); lone surrogates
# (no UTF-8 can encode them: printing one would fail).
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
                    "\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def shown(text: str) -> str:
    """`text` with each unsafe character as its Python escape (ESC → `\\x1b`, RLO → `\\u202e`);
    a CRLF line end is a newline."""
    if not UNSAFE.search(text):
        return text
    return UNSAFE.sub(_escape, text.replace("\r\n", "\n"))


def json_safe(dumped: str) -> str:
    """JSON text (from json.dumps with ensure_ascii=False) with each unsafe character that
    json.dumps leaves raw (C1, DEL, bidi, separators, lone surrogates) as a JSON `\\u` escape:
    still the same JSON value, and nothing in it can drive a terminal."""
    return UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def storable(text: str) -> str:
    """Text as every database keeps it: NUL (PostgreSQL text cannot hold it) and lone
    surrogates (raw 8-bit header bytes, which no UTF-8 encoder takes) become U+FFFD."""
    text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
