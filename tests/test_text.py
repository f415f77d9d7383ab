"""core.text: the one rule for showing stored text (SPEC 20, "Text is shown as text")."""

from __future__ import annotations

import json

import pytest

from core.text import json_safe, shown


@pytest.mark.parametrize(("stored", "printed"), [
    ("plain Müller 日本 [/b]", "plain Müller 日本 [/b]"),
    ("tab\tand\nnewline stay", "tab\tand\nnewline stay"),
    ("\x1b]0;title\x07", "\\x1b]0;title\\x07"),
    ("\x1b[2J", "\\x1b[2J"),
    ("\x9b31m\x85", "\\x9b31m\\x85"),
    ("a\u202eb\u2066c\u2069\u200f", "a\\u202eb\\u2066c\\u2069\\u200f"),
    ("nul\x00 del\x7f cr\r", "nul\\x00 del\\x7f cr\\x0d"),
    ("crlf\r\nline", "crlf\nline"),
    ("line\u2028separator", "line\\u2028separator"),
    ("lone \ud800", "lone \\ud800"),
])
def test_control_characters_are_shown_as_escapes(stored, printed):
    assert shown(stored) == printed
    assert shown(printed) == printed  # shown twice is shown once


def test_json_escapes_what_json_dumps_leaves_raw_and_still_gives_the_value_back():
    value = {"subject": "\x9b2J \u202eevil \ud800 \x7f \u2028 \x1b[31m ok é"}
    dumped = json_safe(json.dumps(value, ensure_ascii=False))
    assert all(c.isprintable() and c not in "\u202e\u2028" for c in dumped)
    assert "é" in dumped  # readable text stays readable
    assert json.loads(dumped) == value


def test_tidy_removes_trailing_blanks_as_the_regex_does():
    import random
    import re

    from poller.mail.text import _BLANK_RUNS, tidy

    rng = random.Random(8)
    for _ in range(3000):
        text = "".join(rng.choice(["a", " ", "\t", "\u00a0", "\n", "\r\n", "\r", "> ", "\ufeff"])
                       for _ in range(rng.randrange(40)))
        plain = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
        expected = _BLANK_RUNS.sub("\n\n", re.sub(r"[ \t\u00a0]+\n", "\n", plain)).strip("\n")
        assert tidy(text) == expected, repr(text)
