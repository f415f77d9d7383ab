"""An address field is read in time that grows with its length (SPEC 20), with the pairs it
gave before: the plain items by our own expression, everything else by mail-parser."""

from __future__ import annotations

import random
import re
import time

import pytest
from mailparser.utils import get_addresses

from core.addresses import ADDRESS_RE, address_matches, find_addresses
from poller.mail.address_list import display_name, field_addresses


def _before(value: str) -> list[tuple[str, str]]:
    """The field as it was read before (poller/mail/message.py, issue 20): mail-parser on the
    whole field, then the lenient recovery, ordered by a search of the field per address."""
    problems: list[dict] = []
    pairs = get_addresses(value, defects=problems, decode_names=True)
    found = [(display_name(n), a.strip()) for n, a in pairs if "@" in a]
    if problems:
        known = {a.lower() for _, a in found}
        names = " ".join(n for n, _ in found).lower()
        for match in ADDRESS_RE.finditer(value):
            address = match.group(0)
            if address.lower() not in known and address.lower() not in names:
                known.add(address.lower())
                found.append(("", address))
        lowered = value.lower()
        found.sort(key=lambda p: lowered.find(p[1].lower()) % (len(value) + 1))
    return found


def _plain_item(rng: random.Random) -> str:
    local = rng.choice(["wile", "w.e.coyote", "a+b", "o'hara", "x_y-z", "J.Doe", "123", "{x}"])
    address = f"{local}@{rng.choice(['acme.com', 'Mail.Acme.co.uk', 'a-b.example', 'x1'])}"
    name = rng.choice(["", "Wile", "Wile E Coyote", "O'Hara  Jr", "  spaced  out ",
                       '"Coyote, Wile"', '"wile@acme.com"', '"  "', '""', '"\'Wile\'"', "#1"])
    if not name and rng.random() < 0.5:
        return rng.choice(["", " ", "\t"]) + address
    return f"{name}{rng.choice(['', ' ', '  '])}<{address}>{rng.choice(['', ' '])}"


def test_plain_fields_read_as_before():
    rng = random.Random(20)
    for _ in range(3000):
        value = rng.choice([",", ", ", " ,"]).join(_plain_item(rng)
                                                   for _ in range(rng.randint(1, 5)))
        assert field_addresses(value, []) == _before(value), value


@pytest.mark.parametrize("value", [
    'Wile <wile@acme.com>, "Coyote (the)" <c@acme.com>',
    "team: a@acme.com, b@acme.com;, c@acme.com",
    "=?utf-8?Q?J=C3=BCrgen?= <jm@acme.de>, b@acme.com",
    "Jürgen <jm@acme.de>, b@acme.com",
    'a@acme.com, <b"c@acme.com>, d@acme.com',
    "a@acme.com (Wile), b@acme.com",
])
def test_fields_beyond_plain_items_read_as_before(value):
    assert field_addresses(value, []) == _before(value)


def test_one_broken_item_among_plain_ones_is_recovered_in_its_place():
    defects: list[str] = []
    value = "a@acme.com, Wile wile@acme.com, \"wile@x.com\" <real@acme.com>, b@acme.com"
    assert [a for _, a in field_addresses(value, defects)] == [
        "a@acme.com", "wile@acme.com", "real@acme.com", "b@acme.com"]
    assert defects and all(d.startswith("AddressHeaderDefect") for d in defects)


def test_address_matches_finds_what_the_expression_finds():
    rng = random.Random(7)
    for _ in range(20000):
        text = "".join(rng.choice("ab.@-_c1 <>,'\"x") for _ in range(rng.randint(0, 40)))
        assert [(m.start(), m.group()) for m in address_matches(text)] == \
            [(m.start(), m.group()) for m in ADDRESS_RE.finditer(text)], text


def _cpu(function, *args) -> float:
    start = time.process_time()
    function(*args)
    return time.process_time() - start


@pytest.mark.parametrize(("name", "make"), [
    ("plain addresses", lambda n: ", ".join(f"P {i} <p{i}@x{i % 97}.com>" for i in range(n))),
    ("quoted names", lambda n: ", ".join(f'"P, {i}" <p{i}@x{i}.com>' for i in range(n))),
    ("plain and one broken", lambda n: ", ".join(f"p{i}@x.com" for i in range(n)) + ", W w@x.com"),
    ("a run without @", lambda n: "a" * (30 * n)),
    ("a run before one @", lambda n: "a" * (30 * n) + "@"),
    ("words", lambda n: "a " * (15 * n)),
])
def test_time_grows_with_the_length_of_the_field_not_its_square(name, make):
    small, large = make(2_000), make(16_000)
    _cpu(field_addresses, small, [])  # warm up
    ratio = _cpu(field_addresses, large, []) / max(_cpu(field_addresses, small, []), 1e-3)
    assert ratio < 24, f"{name}: 8x the field took {ratio:.0f}x the time"
    assert _cpu(find_addresses, large) < 2


def test_a_subject_of_one_long_word_is_searched_for_addresses_quickly():
    assert _cpu(find_addresses, "x" * 1_000_000 + "@") < 2
    assert find_addresses("see " + "x" * 10 + "@acme.com.") == ["xxxxxxxxxx@acme.com"]
    assert re.fullmatch(r"x+@acme\.com", find_addresses("x" * 100_000 + "@acme.com")[0])


def test_a_field_read_before_gives_the_same_pairs_and_defects_again():
    value = "Wile E <wile@acme.com>, broken@, W w@x.com"
    first_defects: list[str] = []
    first = field_addresses(value, first_defects)
    first.append(("poison", "poison@x.com"))  # the caller's list, not the cache's
    again_defects: list[str] = []
    again = field_addresses(value, again_defects)
    assert again == first[:-1] and again_defects == first_defects and again_defects
    assert again == _before(value)
