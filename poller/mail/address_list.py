"""An address field (From, To, Cc) → its (display name, address) pairs, in order, in time that
grows with the field's length (SPEC 20: a message to 100,000 people is read in seconds).

mail-parser reads every field well (groups, quoted commas, encoded names, with its defects
reported) at about 70 µs an address. A field made only of plain items — `a@b.com`,
`Name <a@b.com>`, `"Last, First" <a@b.com>`, ASCII, no comments, groups, escapes or encoded
words — is read here by a regular expression instead, 50 times faster, with the pairs
mail-parser would give (tests/test_address_list.py compares the two). Any other field goes to
mail-parser whole, and what it gives up on is recovered leniently, also in linear time.
"""

from __future__ import annotations

import re
from email.errors import HeaderParseError
from functools import lru_cache

from mailparser.utils import get_addresses

from core.addresses import address_matches
from core.charsets import decode_words

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_ADDR = rf"{_ATEXT}+(?:\.{_ATEXT}+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
# One plain item: an address, or a name of atoms or one quoted string, then the address in <>.
_NAME = rf'"(?P<quoted>[^"\\]*)"|(?P<atoms>(?:{_ATEXT}+[ \t]+)*{_ATEXT}+)'
_PLAIN_ITEM = re.compile(
    rf"[ \t]*(?:(?P<bare>{_ADDR})|(?:{_NAME})?[ \t]*<(?P<addr>{_ADDR})>)[ \t]*")
# Items are what lies between commas outside quotes and angle brackets (as mail-parser splits
# a field without comments, groups, literals or escapes; a quote inside <> it reads otherwise).
_ITEM = re.compile(r'(?:"[^"]*"|<[^<>"]*>|[^,"<>]+)+')
_STRUCTURE = re.compile(r'[()\[\]\\:;]')  # comments, literals, escapes, groups
_NOT_PLAIN = re.compile(r'[^ -~\t]|=\?')  # beyond printable ASCII, or an encoded word
# Beyond this many addresses that the lenient recovery has to place by a search of the field,
# they keep mail-parser's order: each search reads the whole field.
_MAX_SEARCHED = 64
_CACHED_CHARS = 256  # fields this long or shorter are read once a process (field_addresses)

Pair = tuple[str, str]  # (display name, address)


def field_addresses(value: str, defects: list[str]) -> list[Pair]:
    """Every address of one (unfolded, decoded) field, in the order written; what had to be
    guessed is reported in `defects`. mail-parser reads the items of a field one by one, so
    an item it must read does not make the plain ones around it slow.

    A short field is read once a process: the same From (a team member) and To (the mailbox)
    come message after message. Measured on a loaded machine: 21-43 µs to read a one-address
    field, 0.26 µs to find it read."""
    if len(value) > _CACHED_CHARS:
        return _read(value, defects)
    pairs, found = _read_once(value)
    defects.extend(found)
    return list(pairs)


@lru_cache(maxsize=1024)
def _read_once(value: str) -> tuple[tuple[Pair, ...], tuple[str, ...]]:
    defects: list[str] = []
    pairs = _read(value, defects)
    return tuple(pairs), tuple(defects)


def _read(value: str, defects: list[str]) -> list[Pair]:
    items = _items(value)
    if items is None:
        return _parsed(value, defects)
    pairs: list[Pair] = []
    for item in items:
        plain = _plain(item)
        pairs.extend(plain if plain is not None else _parsed(item, defects))
    return pairs


def _items(value: str) -> list[str] | None:
    """The field's items; None when only mail-parser can tell them apart."""
    if _STRUCTURE.search(value) or value.count('"') % 2:
        return None
    items: list[str] = []
    end = 0
    for item in _ITEM.finditer(value):
        if value[end:item.start()].strip(", \t"):  # an angle bracket the items left out
            return None
        end = item.end()
        if item.group().strip(" \t"):
            items.append(item.group())
    return items if not value[end:].strip(", \t") else None


def _plain(item: str) -> list[Pair] | None:
    if _NOT_PLAIN.search(item):
        return None
    match = _PLAIN_ITEM.fullmatch(item)
    if match is None:
        return None
    if match["bare"]:
        return [("", match["bare"])]
    name = match["quoted"] if match["quoted"] is not None else match["atoms"] or ""
    return [(display_name(name), match["addr"])]


def _parsed(value: str, defects: list[str]) -> list[Pair]:
    """mail-parser's reading, and where it gives up, the lenient one."""
    problems: list[dict] = []
    try:
        pairs = get_addresses(value, defects=problems, decode_names=True)
    except (HeaderParseError, ValueError):
        # A broken encoded word in a name (bad base64): the addresses still count; the names
        # are decoded by our own lenient decoder (display_name).
        problems = [{"reason": "undecodable display name"}]
        pairs = get_addresses(value, defects=[], decode_names=False)
    found = [(display_name(n), a.strip()) for n, a in pairs if "@" in a]
    if problems:
        defects.extend(f"AddressHeaderDefect: {p.get('reason', p)}" for p in problems)
        found = _recovered(value, found)
    return found


def _recovered(value: str, found: list[Pair]) -> list[Pair]:
    """Where mail-parser gives up ('Name a@b', '<a@b', 'a@b;c@d'), keep what looks like an
    address, in the order written, unless it only appears inside a display name."""
    first: dict[str, int] = {}
    for match in address_matches(value):
        first.setdefault(match.group(0).lower(), match.start())
    known = {a.lower() for _, a in found}
    names = " ".join(n for n, _ in found)
    in_names = {m.group(0).lower() for m in address_matches(names)}
    for address, start in first.items():
        if address not in known and address not in in_names:
            known.add(address)
            found.append(("", value[start:start + len(address)]))
    lowered = value.lower()
    searched = 0

    def position(pair: Pair) -> int:
        nonlocal searched
        at = first.get(pair[1].lower())
        if at is None and searched < _MAX_SEARCHED:  # a quoted local part, a domain literal
            searched += 1
            at = lowered.find(pair[1].lower())
        return at if at is not None and at >= 0 else len(value)

    return sorted(found, key=position)


def display_name(name: str) -> str:
    name = decode_words(name) if "=?" in name else name  # Outlook quotes its encoded words
    return " ".join(name.strip().strip("\"'").split())
