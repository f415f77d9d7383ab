"""The stdlib parser's multipart boundaries, matched without compiling a regex per boundary.

email.feedparser compiles `(?P<sep>--BOUNDARY)(?P<end>--)?(?P<ws>[ \\t]*)(?P<linesep>...)?$` for
every multipart it reads. Boundaries are unique per message, so the `re` cache never helps: the
compile (sre's parser is Python) was a sixth of a worker's time on business mail, more than the
MIME walk. `install()` gives feedparser a `re` whose `compile` answers exactly that pattern with
a matcher that checks the separator with `startswith` and the rest with one regex compiled once;
every other pattern is the real `re`'s. The matches are the same: the separator is a literal
(`re.escape`), matched at the start of the line, without flags.

The matcher is a Python call where the compiled regex was one in C, ~0.2 µs more on each line the
parser reads inside the multipart; a compile costs ~250 µs. Past ~150 KB (~2,000 lines a
boundary) the compile is the cheaper, so a message of BIG bytes or more gets the real regex
(`for_message`).

Its search for a part's final line break, `(\r\n|\r|\n)\\Z` over the whole payload, makes the
regex engine try every position of the part; `install()` also gives feedparser one that starts
two characters before the end, where such a match can only begin.
"""

from __future__ import annotations

import re
import types
from email import feedparser
from typing import Any

_HEAD = "(?P<sep>"
_TAIL = r")(?P<end>--)?(?P<ws>[ \t]*)(?P<linesep>\r\n|\r|\n)?$"
_REST = re.compile(_TAIL[1:])  # the pattern after the separator: its groups, its `$`
_UNESCAPE = re.compile(r"\\(.)", re.S)  # re.escape puts a backslash before a character
BIG = 128 * 1024
_matchers = {"on": True}  # off while a message of BIG bytes or more is parsed


class _Boundary:
    """What feedparser reads of a compiled boundary pattern: `match(line)`."""

    __slots__ = ("separator", "size")

    def __init__(self, separator: str) -> None:
        self.separator = separator
        self.size = len(separator)

    def match(self, line: str) -> re.Match[str] | None:
        if not line.startswith(self.separator):
            return None
        return _REST.match(line, self.size)


_LINE_END = re.compile(r"(\r\n|\r|\n)\Z")


class _LineEnd:
    """What feedparser reads of NLCRE_eol: `search(text)`, the same match."""

    __slots__ = ()
    pattern = _LINE_END.pattern

    def search(self, text: str) -> re.Match[str] | None:
        return _LINE_END.search(text, max(0, len(text) - 2))


def _compile(pattern: Any, flags: int = 0) -> Any:
    if (_matchers["on"] and not flags and isinstance(pattern, str) and pattern.startswith(_HEAD)
            and pattern.endswith(_TAIL)):
        return _Boundary(_UNESCAPE.sub(r"\1", pattern[len(_HEAD):-len(_TAIL)]))
    return re.compile(pattern, flags)


def for_message(size: int) -> None:
    """Before parsing a message of `size` bytes: matchers, or, for a big one, the regex."""
    _matchers["on"] = size < BIG


def install() -> None:
    """Once per process; feedparser looks `re` up in its module each time it compiles."""
    module: Any = feedparser
    if module.re is re:
        shim = types.SimpleNamespace(**{k: getattr(re, k) for k in dir(re)
                                        if not k.startswith("__")})
        shim.compile = _compile
        module.re = shim
    if getattr(module.NLCRE_eol, "pattern", None) == _LINE_END.pattern:
        module.NLCRE_eol = _LineEnd()
