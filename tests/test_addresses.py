"""The fast path for plain address lists (poller.mail.addresses) reads exactly what mail-parser
reads: the same addresses, the same names, no defect; anything else goes to mail-parser."""

from __future__ import annotations

import random

import pytest

from core.charsets import decode_header_bytes, unfold
from poller.mail.addresses import field_addresses, plain_pairs
from poller.mail.parts import parse_tree
from tests.test_corpus import CORPUS, manifest

NAMES = ["", "Sam", "Sam Lee", "O'Brien", "Anne-Marie Dupont", "J_R", "Seller 12", "a  b"]
ADDRESSES = ["sam@ourco.com", "c1.a7@cust7.example", "x+tag@mail.example.co.uk",
             "A.B-C_D%e@Sub-1.Example.ORG"]


def _item(rng: random.Random) -> str:
    name, address = rng.choice(NAMES), rng.choice(ADDRESSES)
    shape = rng.randrange(4)
    if shape == 0 or not name:
        return address if shape % 2 == 0 else f"<{address}>"
    spaces = " " * rng.randrange(3)
    return f'"{name}"{spaces}<{address}>' if shape == 1 else f"{name}{spaces}<{address}>"


def _same(value: str) -> None:
    fast_defects: list[str] = []
    slow_defects: list[str] = []
    assert field_addresses(value, fast_defects) == field_addresses(value, slow_defects,
                                                                   fast=False), value
    assert fast_defects == slow_defects, value


def test_generated_plain_lists_read_as_mail_parser_reads_them():
    rng = random.Random(5)
    for _ in range(2000):
        value = (", " if rng.random() < 0.8 else ",").join(
            _item(rng) for _ in range(rng.randrange(1, 5)))
        assert plain_pairs(value) is not None, value
        _same(value)


@pytest.mark.parametrize("value", [
    '"Lee, Sam" <sam@ourco.com>', "Sam (work) <sam@ourco.com>", "=?utf-8?q?Sam?= <s@o.com>",
    "undisclosed-recipients:;", "sam@ourco.com,", ", sam@ourco.com", "sam@ourco.com,,x@y.com",
    "Sam sam@ourco.com", "<sam@ourco.com", "sam@ourco.com; x@y.com", '"Sa\\"m" <s@o.com>',
    "sam..lee@ourco.com", "Sam <sam@ourco.com> <x@y.com>", "Sam. Lee <s@o.com>", "",
    "Team: a@b.com, c@d.com;", "sam@[192.0.2.1]", '"" <s@o.com>', "Zoë <z@o.com>",
])
def test_anything_else_is_left_to_mail_parser_and_read_the_same(value):
    _same(value)


@pytest.mark.corpus(CORPUS)
def test_every_address_field_of_the_corpus_reads_the_same():
    fields = 0
    for path, _ in manifest():
        tree = parse_tree((CORPUS / path).read_bytes())
        for key, value in tree.raw_items():
            if key.lower() in ("from", "to", "cc", "sender", "reply-to"):
                _same(unfold(decode_header_bytes(str(value), None)))
                fields += 1
    assert fields > 100
