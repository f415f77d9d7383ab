"""Identifiers that come from outside (SPEC 20): a thread address's ID, Salesforce's external id
field, a touchpoint, task or UID given on the command line or in a URL.

Each is a plain ASCII decimal number from 1 to 2^63 - 1, written as touchlog writes it (no sign,
no spaces, no leading zero); anything else names nothing. `int()` alone would take "²", "٣",
" 7", "+7", "1_000" and a 20-digit number that overflows every database integer.
"""

from __future__ import annotations

import re

MAX_ID = 2**63 - 1
_CANONICAL = re.compile(r"[1-9][0-9]{0,18}")


def parse_id(value: object) -> int | None:
    """The id `value` names, or None when it names nothing touchlog could have made."""
    if not isinstance(value, str) or not _CANONICAL.fullmatch(value):
        return None
    number = int(value)
    return number if number <= MAX_ID else None
