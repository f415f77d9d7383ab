"""The organisational domain (RFC 7489 3.2): the registrable domain of the Public Suffix List.

The list is the one the `publicsuffixlist` package ships (updated with each of its releases; no
download at run time). Its own parser builds a structure for every rule, ~0.2-0.5 s a process:
more than a whole small `poll --once` pass, for the one or two domains a pass ever asks about.
So its lines go into a set of bytes as they are (~3-10 ms, all in C), comments and all (no rule
starts with "//"); the lookup is the list's own algorithm, cached per domain: the longest
matching rule wins, `*.` rules match one label, `!` rules are exceptions to them.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path


def organisational_domain(domain: str) -> str:
    """ourco.com for mail.ourco.com, ourco.co.uk for a.b.ourco.co.uk; the domain itself when
    it has no registrable part (a public suffix itself, or a single label like `localhost`)."""
    return _registrable(domain.strip().lower().rstrip("."))


@cache
def _registrable(domain: str) -> str:
    labels = [_unicode(label) for label in domain.split(".")]  # the list writes IDNs so
    rules = _Rules(_list())
    suffix = 1  # the implicit rule "*": an unknown top-level domain is one label
    for i in range(len(labels)):
        name = ".".join(labels[i:])
        if "!" + name in rules:
            suffix = len(labels) - i - 1
            break
        if name in rules or (i + 1 < len(labels) and "*." + ".".join(labels[i + 1:]) in rules):
            suffix = len(labels) - i
            break
    return domain if suffix >= len(labels) else ".".join(domain.split(".")[-suffix - 1:])


def _unicode(label: str) -> str:
    if not label.startswith("xn--"):
        return label
    try:
        return label.encode("ascii").decode("idna")
    except UnicodeError:
        return label


class _Rules:
    def __init__(self, lines: frozenset[bytes]) -> None:
        self.lines = lines

    def __contains__(self, rule: object) -> bool:
        return isinstance(rule, str) and rule.encode() in self.lines


@cache
def _list() -> frozenset[bytes]:
    # One rule a line, no blanks around it (a test checks the shipped file).
    return frozenset(_list_path().read_bytes().replace(b"\r\n", b"\n").split(b"\n"))


def _list_path() -> Path:
    # Found without importing the package: its import costs more than reading the list.
    spec = importlib.util.find_spec("publicsuffixlist")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the publicsuffixlist package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "public_suffix_list.dat"
