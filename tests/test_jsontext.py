"""The JSON text of stored values (core.jsontext): orjson's, and the standard library's for what
orjson refuses; either reads back as the value, its keys sorted."""

from __future__ import annotations

import json

import pytest

from core.jsontext import json_text


def objects_keys(text: str) -> list[list[str]]:
    seen: list[list[str]] = []
    json.loads(text, object_pairs_hook=lambda pairs: seen.append([k for k, _ in pairs]) or {})
    return seen


@pytest.mark.parametrize("value", [
    {"b": 1, "a": [True, None, 1.5, "Zürich – 東京"], "nested": {"z": {}, "y": []}},
    [{"email": "wile@acme.com", "name": "Wile E.", "role": "to"}],
    {"big": 2**70, "a": 1},  # past 64 bits: orjson refuses, the standard library writes it
    {2: "an integer key", 1: "another"},  # orjson refuses a key that is no string
    {"odd": "raw header byte \udce9"},  # a lone surrogate: kept for storable() to replace
])
def test_json_text_reads_back_with_sorted_keys(value):
    text = json_text(value)
    assert json.loads(text) == json.loads(json.dumps(value, ensure_ascii=False))
    assert all(keys == sorted(keys) for keys in objects_keys(text))


def test_non_ascii_is_kept_as_it_is():
    assert json_text({"name": "Zürich – 東京"}) == '{"name":"Zürich – 東京"}'
