"""A forwarded header's From/To/Cc value, as a person typed or a client rendered it → addresses.

Forwarded tables are text, not RFC 5322: Outlook writes `Name [mailto:x]`, `Name <mailto:x>`,
`x <x>`, lists joined by `;`, names with no address at all, and unquoted commas inside names
(`Jin, Di <di@brown.edu>`). So this reads addresses by where they stand, not by a grammar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.addresses import address_matches
from poller.mail.forward_markers import BEHALF_RE
from poller.mail.message import Address

_OPENERS = re.compile(r"(?:<|\(|\[)\s*(?:mailto:)?\s*$|mailto:\s*$", re.IGNORECASE)
_NAME_JUNK = " \t\"'<>[]()*,;:\u00a0\u202f"


@dataclass(frozen=True)
class People:
    addresses: tuple[Address, ...]
    names: tuple[str, ...]  # people written without any address


def parse_people(value: str) -> People:
    """Addresses in order without repeats, with display names, and the names shown alone."""
    value = _prefer_delegate_side(value)
    entries: list[Address] = []
    names: list[str] = []
    pending: Address | None = None  # a bare address: maybe the display text of the next one
    last_end = 0
    for match in address_matches(value):
        between = value[last_end:match.start()]
        email = match.group(0).lstrip("'`").rstrip(".")
        if _OPENERS.search(between):
            name_text = _OPENERS.sub("", between)
            if pending is not None and not _clean(name_text):
                name = pending.email  # "x@y <x@y>", "shown@y [mailto:real@z]": text is the name
            else:
                _flush(pending, entries)
                name = _name_before(name_text, names)
            pending = None
            entries.append(Address(email, "" if name.lower() == email.lower() else name))
        else:
            _flush(pending, entries)
            pending = Address(email, _name_before(between, names))
        last_end = _skip_closer(value, match.end())
    _flush(pending, entries)
    names.extend(_names_alone(value[last_end:], has_addresses=bool(entries)))
    return People(_dedupe(entries), tuple(names))


def _prefer_delegate_side(value: str) -> str:
    """"A on behalf of B": keep the side that shows an address, the left one when both do."""
    parts = BEHALF_RE.split(value, maxsplit=1)
    if len(parts) == 2:
        left, right = parts
        return left if _any_address(left) or not _any_address(right) else right
    return value


def _any_address(text: str) -> bool:
    return next(address_matches(text), None) is not None


def _name_before(text: str, names: list[str]) -> str:
    """The display name in the text before an address; earlier `;`-separated parts are names."""
    *alone, last = re.split(r";", text)
    for part in alone:
        if _clean(part):
            names.append(_clean(part))
    return _clean(re.sub(r"^\s*[>\])]*\s*,", "", last))


def _names_alone(text: str, has_addresses: bool) -> list[str]:
    """Trailing text with no address. Alone in a field, `Butter, Frank` is one name; after an
    address list, commas separate people as `;` does."""
    separators = r"[;,]" if has_addresses else r";"
    return [_clean(part) for part in re.split(separators, text) if _clean(part)]


def _clean(text: str) -> str:
    text = re.sub(r"mailto:", "", text, flags=re.IGNORECASE)
    return " ".join(text.strip(_NAME_JUNK).split())


def _skip_closer(value: str, end: int) -> int:
    while end < len(value) and value[end] in " >])":
        end += 1
    return end


def _flush(pending: Address | None, entries: list[Address]) -> None:
    if pending is not None:
        entries.append(pending)


def _dedupe(entries: list[Address]) -> tuple[Address, ...]:
    seen: dict[str, Address] = {}
    for entry in entries:
        key = entry.email.lower()
        if key not in seen or (not seen[key].name and entry.name):
            seen[key] = entry
    return tuple(seen.values())
