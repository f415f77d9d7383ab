"""A body part's text made readable: HTML laid out as text, line endings and blank runs tidied.

Decoding bytes and header words is core.charsets' job; this module holds what only the MIME
reader needs (inscriptis, an HTML-to-text library, is loaded only with it).
"""

from __future__ import annotations

import re

from inscriptis import get_text

_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_:.-]+)""", re.I)


def html_charset(data: bytes) -> str | None:
    """The charset an HTML document declares in its own <meta>, for parts whose MIME lacks one."""
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii") if match else None


def html_to_text(html: str) -> str:
    """Readable text of an HTML body, laid out by inscriptis (lists, tables, paragraphs)."""
    if not html.strip():
        return ""
    try:
        text = get_text(html)
    except Exception:  # a pathological document must not cost us the message
        text = re.sub(r"<[^>]*>", " ", html)
    return tidy(text)


_TRAILING_BLANKS = re.compile(r"[ \t\u00a0]+\n")  # what tidy removes, the tests' yardstick
_BLANK_RUNS = re.compile(r"\n{3,}")


def tidy(text: str) -> str:
    """Line endings made uniform, trailing blanks and long runs of empty lines removed. Each
    regex runs only where it has something to do: trying the first at every space of a body
    cost more than decoding it."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    if " \n" in text or "\t\n" in text or "\u00a0\n" in text:
        # Each line's trailing blanks (not the last line's: no line break follows it), as
        # _TRAILING_BLANKS.sub("\n", text) removes them, without a regex tried at every space.
        lines = text.split("\n")
        text = "\n".join([line.rstrip(" \t\u00a0") for line in lines[:-1]] + lines[-1:])
    if "\n\n\n" in text:
        text = _BLANK_RUNS.sub("\n\n", text)
    return text.strip("\n")
