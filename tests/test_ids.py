"""core.ids: only what touchlog itself writes as an id names anything (SPEC 20)."""

from __future__ import annotations

import pytest

from core.ids import MAX_ID, parse_id


@pytest.mark.parametrize("text, expected", [
    ("1", 1), ("42", 42), (str(MAX_ID), MAX_ID),
])
def test_plain_decimal_ids_are_read(text, expected):
    assert parse_id(text) == expected


@pytest.mark.parametrize("text", [
    "", "0", "-1", "+1", " 1", "1 ", "01", "1_000", "1.0", "1e3", "²", "٣", "１",
    str(MAX_ID + 1), "9" * 20, "99999999999999999999999", "0x10", "1\n", "abc",
])
def test_anything_else_names_nothing(text):
    assert parse_id(text) is None


def test_only_text_is_read():
    assert parse_id(7) is None and parse_id(None) is None
