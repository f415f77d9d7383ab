"""The stdlib parser's multipart boundaries, matched without compiling a regex per boundary.

email.feedparser compiles `(?P<sep>--BOUNDARY)(?P<end>--)?(?P<ws>[ \\t]*)(?P<linesep>...)?$` for
every multipart it reads. Boundaries are unique per message, so the `re` cache never helps: the
compile (sre's parser is Python) was a sixth of a worker's time on business mail, more than the
MIME walk. `install()` gives feedparser a `re` whose `compile` answers exactly that pattern with
a matcher that checks the separator with `startswith` and the rest with one regex compiled once;
every other pattern is the real `re`'s. The matches are the same: the separator is a literal
(`re.escape`), matched at the start of the line, without flags.
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


def _compile(pattern: Any, flags: int = 0) -> Any:
    if (not flags and isinstance(pattern, str) and pattern.startswith(_HEAD)
            and pattern.endswith(_TAIL)):
        return _Boundary(_UNESCAPE.sub(r"\1", pattern[len(_HEAD):-len(_TAIL)]))
    return re.compile(pattern, flags)


def install() -> None:
    """Once per process; feedparser looks `re` up in its module each time it compiles."""
    module: Any = feedparser
    if module.re is re:
        shim = types.SimpleNamespace(**{k: getattr(re, k) for k in dir(re)
                                        if not k.startswith("__")})
        shim.compile = _compile
        module.re = shim
