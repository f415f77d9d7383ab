"""Salesforce record Ids: the 18-character case-safe form, and back from touchlog's lower case.

touchlog keeps `external_id` in lower case (SPEC 13, as the product it re-creates does); the
three-character suffix of an 18-character Id says which of the first 15 were upper case, so
the exact Id Salesforce expects is recovered without keeping a second copy.
"""

from __future__ import annotations

import re

_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID18 = re.compile(r"[A-Za-z0-9]{18}")


def is_id18(value: str) -> bool:
    return bool(_ID18.fullmatch(value))


def with_suffix(id15: str) -> str:
    suffix = ""
    for i in range(0, 15, 5):
        bits = sum(1 << j for j, c in enumerate(id15[i:i + 5]) if "A" <= c <= "Z")
        suffix += _SUFFIX[bits]
    return id15 + suffix


def restore_case(external_id: str) -> str:
    """The 18-character Id as Salesforce writes it, from the same Id in any case."""
    if not is_id18(external_id):
        raise ValueError(f"not an 18-character Salesforce Id: {external_id!r}")
    head, suffix = external_id[:15].lower(), external_id[15:].upper()
    chars = list(head)
    for block, code in enumerate(suffix):
        bits = _SUFFIX.index(code)
        for j in range(5):
            if bits & (1 << j):
                chars[block * 5 + j] = chars[block * 5 + j].upper()
    return "".join(chars) + suffix
