"""How much of a message touchlog keeps, and the one marker that says something was cut."""

from __future__ import annotations

# A subject longer than this is no subject a person wrote (a 1 MB header line was seen).
MAX_SUBJECT_CHARS = 1000
CUT_MARKER = "[… cut by touchlog: {n} more characters not stored]"


def cut(text: str, limit: int, separator: str = "\n\n") -> str:
    """`text`, or its first `limit` characters followed by the visible marker."""
    if len(text) <= limit:
        return text
    return text[:limit] + separator + CUT_MARKER.format(n=len(text) - limit)
