"""Authentication-Results (RFC 8601) header values → what the receiving server verified.

Our own small parser rather than the `authres` package: authres raises a SyntaxError on the
form Microsoft 365 writes (no authserv-id: the value starts with `spf=...`), on an
`smtp.mailfrom=<>`, and costs ~0.5 ms a header — a third of a whole poll pass per message,
where SPEC 11's check must stay under 2%. This one is lenient where real servers are sloppy
(Microsoft's stray `;example.com;` segments, spaces around `=`, quoted values) and strict where
it matters: comments never carry results, and nothing guesses a missing authserv-id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

NO_AUTHSERV_ID = "(none)"  # what `[trust] authserv_ids` lists to trust Microsoft 365's form

_COMMENT = re.compile(r"\([^()]*\)")
# A quoted string, a comment bracket, a separator, or a run of anything else.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"?|[();]|[^"();]+')
_STARTS_WITH_RESULT = re.compile(r"[A-Za-z0-9._/-]+\s*=")
# name=value inside one result: `dkim=pass`, `header.d=ourco.com`, `reason="x y"`.
_PAIR = re.compile(r'([A-Za-z0-9][A-Za-z0-9._/-]*)\s*=\s*("(?:[^"\\]|\\.)*"?|[^\s"]+)')


@dataclass(frozen=True)
class Result:
    """One resinfo: `dkim=pass header.d=ourco.com` → method dkim, result pass, props."""

    method: str  # lower-case: dkim, spf, dmarc, arc, ...
    result: str  # lower-case: pass, fail, none, softfail, temperror, ...
    props: dict[str, str] = field(default_factory=dict)  # "header.d" -> "ourco.com"

    def text(self) -> str:
        """Short and readable, for a failure's detail: `dkim=pass header.d=evil.example`."""
        shown = [f"{k}={v}" for k, v in self.props.items()
                 if k in ("header.from", "header.d", "header.i", "smtp.mailfrom")]
        return " ".join([f"{self.method}={self.result}", *shown])


@dataclass(frozen=True)
class AuthResults:
    authserv_id: str  # lower-case; NO_AUTHSERV_ID when the header names none (Microsoft 365)
    results: tuple[Result, ...] = ()

    def of(self, method: str) -> tuple[Result, ...]:
        return tuple(r for r in self.results if r.method == method)


def parse(value: str) -> AuthResults:
    """One header value; never raises. Unreadable pieces are left out, so at worst the header
    says nothing passed."""
    segments = _segments(value)
    if not segments:
        return AuthResults("")
    if _STARTS_WITH_RESULT.match(segments[0]):  # Microsoft 365: no authserv-id at all
        authserv_id, rest = NO_AUTHSERV_ID, segments
    else:  # anything after the id and its version in that segment is not a result
        authserv_id, rest = segments[0].split()[0].lower(), segments[1:]
    results = tuple(r for r in map(_result, rest) if r is not None)
    return AuthResults(authserv_id, results)


def _segments(value: str) -> list[str]:
    """Split on `;` outside quotes, with every (nested) comment dropped."""
    if '"' in value or "\\" in value:
        return _segments_quoted(value)
    while "(" in value:  # innermost comments first, so nesting needs no counting
        stripped = _COMMENT.sub(" ", value)
        if stripped == value:  # an unclosed "(": the rest is comment
            stripped = value.split("(", 1)[0]
        value = stripped
    return [s for s in (" ".join(seg.split()) for seg in value.split(";")) if s]


def _segments_quoted(value: str) -> list[str]:
    segments: list[str] = []
    current: list[str] = []
    depth = 0
    for token in _TOKENS.findall(value):
        if token == "(":
            depth += 1
        elif token == ")":
            depth = max(0, depth - 1)
        elif depth:
            continue
        elif token == ";":
            segments.append("".join(current))
            current = []
        else:
            current.append(token)
    segments.append("".join(current))
    return [s for s in (" ".join(seg.split()) for seg in segments) if s]


def _result(segment: str) -> Result | None:
    if '"' in segment or " =" in segment or "= " in segment:
        return _result_by_regex(segment)
    # The usual case, without a regex: `method=result name=value name=value`.
    tokens = segment.split()
    method, eq, result = tokens[0].partition("=")
    if not eq or not method:
        return None  # Microsoft's stray `ourco.com` segment, or a bare `none`
    props: dict[str, str] = {}
    for token in tokens[1:]:
        name, eq, value = token.partition("=")
        if eq:
            props.setdefault(name.lower(), value)
    return Result(method.partition("/")[0].lower(), result.lower(), props)


def _result_by_regex(segment: str) -> Result | None:
    pairs = [(k, _unquote(v)) for k, v in _PAIR.findall(segment)]
    if not pairs or not pairs[0][0] or not segment.startswith(pairs[0][0]):
        return None
    method, result = pairs[0]
    props: dict[str, str] = {}
    for name, value in pairs[1:]:
        props.setdefault(name.lower(), value)
    return Result(method.partition("/")[0].lower(), result.lower(), props)


def _unquote(value: str) -> str:
    if value.startswith('"'):
        value = re.sub(r"\\(.)", r"\1", value[1:-1] if value.endswith('"') else value[1:])
    return value.strip()
