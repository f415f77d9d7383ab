"""The SOQL the fake Salesforce understands: the statements touchlog sends, parsed and evaluated.

SELECT a, b.c FROM Obj [WHERE cond] [ORDER BY f [ASC|DESC], ...] [LIMIT n], where cond combines
`field op literal`, `field [NOT] IN (literals)`, AND, OR, NOT and parentheses; literals are
'strings', numbers, true/false, null, datetimes (2026-12-01T09:00:00Z) and dates (2026-12-01).
As in Salesforce, `=` and IN on text ignore case. Anything else is MALFORMED_QUERY, as a query
Salesforce cannot parse would be; relative date literals (TODAY, LAST_N_DAYS:n), functions,
GROUP BY and sub-queries are not implemented.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

_TOKEN = re.compile(r"""\s*(?:
    (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<datetime>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d))
  | (?P<date>\d{4}-\d\d-\d\d)
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<op><=|>=|!=|<>|=|<|>|\(|\)|,)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
)""", re.VERBOSE)

Getter = Callable[[dict[str, Any], str], Any]


class SoqlError(Exception):
    """The statement is not SOQL this fake (or Salesforce) accepts: MALFORMED_QUERY."""


@dataclass
class Query:
    fields: list[str]
    sobject: str
    where: Any = None  # a nested tuple tree, evaluated by matches()
    order: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    limit: int | None = None


def parse(text: str) -> Query:
    tokens = _tokens(text)
    return _Parser(tokens).query()


def _tokens(text: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise SoqlError(f"unexpected token at: {text[pos:pos + 20]!r}")
        kind = m.lastgroup or ""
        out.append((kind, _literal(kind, m.group(kind))))
        pos = m.end()
    return out


def _literal(kind: str, raw: str) -> Any:
    if kind == "string":
        return re.sub(r"\\(.)", r"\1", raw[1:-1])
    if kind == "datetime":
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).astimezone(UTC)
    if kind == "date":
        return date.fromisoformat(raw)
    if kind == "number":
        return float(raw) if "." in raw else int(raw)
    return raw


class _Parser:
    def __init__(self, tokens: list[tuple[str, Any]]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self, word: str | None = None) -> bool:
        if self.i >= len(self.tokens):
            return False
        kind, value = self.tokens[self.i]
        if word is None:
            return True
        return isinstance(value, str) and kind in ("word", "op") and value.upper() == word

    def take(self, word: str | None = None) -> tuple[str, Any]:
        if word is not None and not self.peek(word):
            got = self.tokens[self.i][1] if self.i < len(self.tokens) else "end of query"
            raise SoqlError(f"expected {word}, got {got!r}")
        if self.i >= len(self.tokens):
            raise SoqlError("unexpected end of query")
        self.i += 1
        return self.tokens[self.i - 1]

    def name(self) -> str:
        kind, value = self.take()
        if kind != "word":
            raise SoqlError(f"expected a field name, got {value!r}")
        return str(value)

    def query(self) -> Query:
        self.take("SELECT")
        fields = [self.name()]
        while self.peek(","):
            self.take(",")
            fields.append(self.name())
        self.take("FROM")
        q = Query(fields, self.name())
        if self.peek("WHERE"):
            self.take("WHERE")
            q.where = self.disjunction()
        if self.peek("ORDER"):
            self.take("ORDER")
            self.take("BY")
            q.order = [self.order_item()]
            while self.peek(","):
                self.take(",")
                q.order.append(self.order_item())
        if self.peek("LIMIT"):
            self.take("LIMIT")
            q.limit = int(self.take()[1])
        if self.peek():
            raise SoqlError(f"unexpected {self.tokens[self.i][1]!r}")
        return q

    def order_item(self) -> tuple[str, bool]:
        name = self.name()
        if self.peek("DESC") or self.peek("ASC"):
            return name, self.take()[1].upper() == "DESC"
        return name, False

    def disjunction(self) -> Any:
        node = self.conjunction()
        while self.peek("OR"):
            self.take("OR")
            node = ("or", node, self.conjunction())
        return node

    def conjunction(self) -> Any:
        node = self.factor()
        while self.peek("AND"):
            self.take("AND")
            node = ("and", node, self.factor())
        return node

    def factor(self) -> Any:
        if self.peek("NOT"):
            self.take("NOT")
            return ("not", self.factor())
        if self.peek("("):
            self.take("(")
            node = self.disjunction()
            self.take(")")
            return node
        name = self.name()
        if self.peek("NOT"):
            self.take("NOT")
            self.take("IN")
            return ("not", ("in", name, self.values()))
        if self.peek("IN"):
            self.take("IN")
            return ("in", name, self.values())
        kind, op = self.take()
        if kind != "op" or op not in ("=", "!=", "<>", "<", "<=", ">", ">="):
            raise SoqlError(f"expected an operator after {name}, got {op!r}")
        return ("cmp", name, "!=" if op == "<>" else op, self.value())

    def values(self) -> list[Any]:
        self.take("(")
        values = [self.value()]
        while self.peek(","):
            self.take(",")
            values.append(self.value())
        self.take(")")
        return values

    def value(self) -> Any:
        kind, value = self.take()
        if kind == "word":
            words = {"NULL": None, "TRUE": True, "FALSE": False}
            if value.upper() not in words:
                raise SoqlError(f"unsupported literal {value!r}")
            return words[value.upper()]
        if kind == "op":
            raise SoqlError(f"expected a value, got {value!r}")
        return value


def matches(node: Any, record: dict[str, Any], get: Getter) -> bool:
    if node is None:
        return True
    kind = node[0]
    if kind == "and":
        return matches(node[1], record, get) and matches(node[2], record, get)
    if kind == "or":
        return matches(node[1], record, get) or matches(node[2], record, get)
    if kind == "not":
        return not matches(node[1], record, get)
    if kind == "in":
        value = _folded(get(record, node[1]))
        return value is not None and value in {_folded(v) for v in node[2]}
    return _compare(_folded(get(record, node[1])), node[2], _folded(node[3]))


def _folded(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _compare(left: Any, op: str, right: Any) -> bool:
    if op == "=":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if left is None or right is None:
        return False
    if isinstance(left, datetime) and isinstance(right, date) and not isinstance(right, datetime):
        right = datetime(right.year, right.month, right.day, tzinfo=UTC)
    ops: dict[str, Callable[[Any, Any], bool]] = {
        "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}
    try:
        return ops[op](left, right)
    except TypeError:
        raise SoqlError(f"cannot compare {left!r} {op} {right!r}") from None


def ordered(records: list[dict[str, Any]], order: list[tuple[str, bool]],
            get: Getter) -> list[dict[str, Any]]:
    """ORDER BY, one stable sort per key from the last; nulls first ascending, as Salesforce."""
    for name, descending in reversed(order):
        def key(record: dict[str, Any], name: str = name) -> tuple[bool, Any]:
            value = _folded(get(record, name))
            return (value is not None, value if value is not None else 0)
        records.sort(key=key, reverse=descending)
    return records
