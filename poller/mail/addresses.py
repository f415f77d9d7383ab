"""An address field's value → Address values: mail-parser's forensic parser (groups, quoted
commas, encoded names, defects noted), with a lenient pass where it gives up, and a fast path for
the plain lists nearly all mail carries.

The fast path takes only a list whose every item is `addr`, `<addr>`, `Words <addr>` or
`"Words" <addr>`, with words of letters, digits, spaces, `'`, `_` and `-` and a dot-atom address:
there mail-parser finds exactly these pairs and no defect (tests/test_addresses.py compares the
two on the corpus and on generated lists), at a twentieth of its cost. Anything else, a comment,
an encoded word, a quote inside a name, a group, a stray comma, goes to mail-parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.errors import HeaderParseError

from mailparser.utils import get_addresses

from core.addresses import ADDRESS_RE
from core.charsets import decode_words


@dataclass(frozen=True)
class Address:
    email: str
    name: str = ""

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2].lower()


_ADDR = r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
_WORDS = r"[A-Za-z0-9_'-]+(?: +[A-Za-z0-9_'-]+)*"
_PLAIN_ITEM = re.compile(
    rf' *(?:"(?P<quoted> *(?:{_WORDS})? *)" *<(?P<a1>{_ADDR})>|(?P<words>{_WORDS}) *'
    rf"<(?P<a2>{_ADDR})>|<(?P<a3>{_ADDR})>|(?P<a4>{_ADDR})) *(?:,|\Z)")


def plain_pairs(value: str) -> list[tuple[str, str]] | None:
    """(name, address) of a plain list, as mail-parser reads it; None when it is not one."""
    pairs: list[tuple[str, str]] = []
    pos, end = 0, len(value)
    while pos < end:
        match = _PLAIN_ITEM.match(value, pos)
        if match is None or match.end() == pos:
            return None
        name = match["quoted"] if match["quoted"] is not None else match["words"] or ""
        pairs.append((name, match["a1"] or match["a2"] or match["a3"] or match["a4"]))
        pos = match.end()
    if not pairs or value.rstrip(" ").endswith(","):
        return None
    return pairs


def field_addresses(value: str, defects: list[str], fast: bool = True) -> list[Address]:
    """The addresses of one field's (decoded, unfolded) value, in the order written. `fast`
    False: mail-parser reads every value (the tests compare the two)."""
    pairs = plain_pairs(value) if fast else None
    if pairs is not None:
        return [Address(a, _display_name(n)) for n, a in pairs]
    problems: list[dict] = []
    try:
        pairs = get_addresses(value, defects=problems, decode_names=True)
    except (HeaderParseError, ValueError):
        # A broken encoded word in a name (bad base64): the addresses still count; the names
        # are decoded by our own lenient decoder (_display_name).
        problems = [{"reason": "undecodable display name"}]
        pairs = get_addresses(value, defects=[], decode_names=False)
    found = [Address(a.strip(), _display_name(n)) for n, a in pairs if "@" in a]
    if problems:
        defects.extend(f"AddressHeaderDefect: {p.get('reason', p)}" for p in problems)
        # Where mail-parser gives up ('Name a@b', '<a@b', 'a@b;c@d'), keep what looks like an
        # address, in the order written, unless it only appears inside a display name.
        known = {a.email.lower() for a in found}
        names = " ".join(a.name for a in found).lower()
        for match in ADDRESS_RE.finditer(value):
            address = match.group(0)
            if address.lower() not in known and address.lower() not in names:
                known.add(address.lower())
                found.append(Address(address, ""))
        found.sort(key=lambda a: _position(value, a.email))
    return found


def _position(value: str, address: str) -> int:
    index = value.lower().find(address.lower())
    return index if index >= 0 else len(value)


def _display_name(name: str) -> str:
    name = decode_words(name) if "=?" in name else name  # Outlook quotes its encoded words
    return " ".join(name.strip().strip("\"'").split())
