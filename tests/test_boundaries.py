"""feedparser's multipart boundaries matched without a regex per boundary
(poller.mail.boundaries) split every message exactly where the stdlib's own regex does."""

from __future__ import annotations

import email
import re
from email import feedparser
from typing import Any

import pytest

from poller.mail import boundaries
from poller.mail.parts import parse_tree

BOUNDARIES = ["simple", "a.b+c(d)*e?[f]{g}|h^i$j\\k", "--starts-with-dashes", "ends--",
              "with space", "=_Part_0_12345.67890", "x" * 70, "ü-non-ascii"]


def _message(boundary: str, variant: int) -> bytes:
    close = {0: f"--{boundary}--\n", 1: f"--{boundary}--   \n", 2: f"--{boundary}-- tail\n",
             3: "", 4: f"--{boundary}--"}[variant]
    return (f'From: a@b.com\nContent-Type: multipart/mixed; boundary="{boundary}"\n\n'
            f"preamble\n--{boundary}\nContent-Type: text/plain\n\none\n--{boundary}x\n"
            f"--{boundary} \t\nContent-Type: text/plain\n\ntwo\n--{boundary}\n--{boundary}\n"
            f"Content-Type: text/plain\n\nthree\n-{boundary}\n {close}epilogue\n").encode()


def _shape(tree: Any) -> Any:
    if tree.is_multipart():
        return (tree.preamble, tree.epilogue, [_shape(p) for p in tree.get_payload()],
                [type(d).__name__ for d in tree.defects])
    return tree.get_payload(), [type(d).__name__ for d in tree.defects]


def _stdlib_tree(raw: bytes) -> Any:
    module: Any = feedparser
    shim, module.re = module.re, re
    try:
        return email.message_from_bytes(raw)
    finally:
        module.re = shim


@pytest.mark.parametrize("boundary", BOUNDARIES)
@pytest.mark.parametrize("variant", range(5))
def test_parts_split_where_the_stdlib_splits_them(boundary, variant):
    raw = _message(boundary, variant)
    assert _shape(parse_tree(raw)) == _shape(_stdlib_tree(raw))


def test_the_shim_is_installed_and_other_patterns_are_the_real_re():
    module: Any = feedparser
    assert module.re is not re
    assert module.re.compile(r"a+").match("aa")
    boundaries.install()  # twice is once
    assert module.re.compile is boundaries._compile


@pytest.mark.parametrize("boundary", BOUNDARIES[:3])
def test_a_big_message_is_split_by_the_stdlib_regex_the_same(boundary):
    raw = _message(boundary, 0).replace(b"\none\n", b"\n" + b"x" * 76 * 2000 + b"\n")
    assert len(raw) >= boundaries.BIG
    assert _shape(parse_tree(raw)) == _shape(_stdlib_tree(raw))


def test_a_parts_last_line_break_is_found_as_the_regex_finds_it():
    import random

    module: Any = feedparser
    rng = random.Random(4)
    for _ in range(3000):
        text = "".join(rng.choice("ab\r\n ") for _ in range(rng.randrange(8)))
        ours, theirs = module.NLCRE_eol.search(text), re.search(r"(\r\n|\r|\n)\Z", text)
        assert (ours and ours.group(0)) == (theirs and theirs.group(0)), repr(text)
