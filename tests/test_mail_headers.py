"""poller.mail.headers answers every header lookup exactly as email.message.Message does: on the
real-world corpus, on hostile header blocks, after the headers change, and for every
Content-Type whose charset it reads itself."""

from __future__ import annotations

import random
import re
from email.feedparser import FeedParser
from email.header import Header
from email.message import Message as EmailMessage
from email.policy import compat32
from typing import Any

import pytest

from core.charsets import decode_header_bytes, decode_words, header_text, unfold
from core.message_ids import message_id_as_written
from poller.mail.headers import Tree, content_charset, header_index, plain_tree, raw_values
from poller.mail.parts import mend_lines, parse_tree, repair_head
from tools.shared import shared_dir

CORPUS = shared_dir() / "corpus"
ASKED = ("content-type", "Content-Type", "CONTENT-TRANSFER-ENCODING", "content-disposition",
         "message-id", "from", "To", "subject", "received", "x-missing", "")
METHODS = ("get_content_type", "get_content_maintype", "get_default_type", "get_boundary",
           "get_content_charset", "get_filename", "get_content_disposition", "get_params",
           "get_charsets", "is_multipart", "keys", "values", "items")


def stdlib_tree(raw: bytes) -> EmailMessage:
    """What parse_tree read before: the same bytes, the stdlib's own Message class."""
    parser = FeedParser(policy=compat32)
    parser.feed(repair_head(raw).decode("ascii", "surrogateescape"))
    return parser.close()


def answer(call: Any) -> tuple[str, str]:
    """A lookup's answer as a comparable value: its type and text, or the error it raised."""
    try:
        value = call()
    except Exception as exc:
        return ("raised", type(exc).__name__)
    return (type(value).__name__, shown(value))


def shown(value: Any) -> str:
    """A Header's repr is its address: it is compared by its type and text."""
    if isinstance(value, list | tuple):
        return repr([shown(v) for v in value])
    if isinstance(value, Header):
        return f"Header {str(value)!r}"
    return f"{type(value).__name__} {value!r}"


def answers(part: EmailMessage) -> list[tuple[str, tuple[str, str]]]:
    names = [*ASKED, *part.keys(), *(k.upper() for k in part.keys())]
    found = [(f"get {n}", answer(lambda n=n: part.get(n, "<none>"))) for n in names]
    found += [(f"[{n}]", answer(lambda n=n: part[n])) for n in names]
    found += [(f"in {n}", answer(lambda n=n: n in part)) for n in names]
    found += [(f"get_all {n}", answer(lambda n=n: part.get_all(n))) for n in names]
    found += [(m, answer(getattr(part, m))) for m in METHODS]
    found += [("charset param", answer(lambda: part.get_param("charset")))]
    found += [("content_charset", answer(lambda: content_charset(part)))]
    found += [(f"raw {n}", answer(lambda n=n: raw_values(part, n.lower()))) for n in names]
    found += [("index", answer(lambda: header_index(part)))]
    return found


def assert_same(raw: bytes) -> None:
    ours, theirs = parse_tree(raw), stdlib_tree(raw)
    our_parts, their_parts = list(ours.walk()), list(theirs.walk())
    assert len(our_parts) == len(their_parts)
    for mine, stdlib in zip(our_parts, their_parts, strict=True):
        assert isinstance(mine, Tree) and type(stdlib) is EmailMessage
        assert answers(mine) == answers(stdlib)
        assert answer(lambda m=mine: content_charset(m)) == answer(stdlib.get_content_charset)


@pytest.mark.corpus(CORPUS)
def test_every_part_of_the_corpus_answers_as_the_stdlib() -> None:
    paths = sorted((CORPUS / "mails").rglob("*.eml"))
    assert len(paths) > 250
    for path in paths:
        assert_same(path.read_bytes())


HOSTILE = [
    # duplicates: the first wins for get, all are kept in order for the rest
    b"From: a@x.com\nfrom: b@y.com\nFROM: c@z.com\nSubject: one\nsubject: two\n\nbody\n",
    b"Content-Type: text/html\ncontent-type: text/plain; charset=koi8-r\n\n<p>x</p>\n",
    # names in odd cases, folded values, a header without a value, an empty one
    b"fRoM: a@x.com\nSUBJECT: folded\n  over\n\tthree lines\nX-Empty:\nX-Space: \nTo: b@y.com\n\n.",
    b"Content-Type: text/plain;\n charset=\"utf-8\"\nContent-Transfer-Encoding: Base64\n\naGk=\n",
    # raw 8-bit bytes in values and in a parameter
    "From: J\u00fcrgen <j@x.de>\nSubject: \u00c4rger\n\nx\n".encode("latin-1"),
    "Content-Type: text/plain; charset=\u00fctf-8\nFrom: a@x.com\n\nx\n".encode("latin-1"),
    "Content-Type: text/plain; name=\"r\u00e9sum\u00e9.txt\"\n\nx\n".encode(),
    # broken MIME: no separator line, continuation first, misplaced envelope, colon first
    b"From: a@x.com\nthis is no header\nSubject: lost\n\nbody\n",
    b"  continued: first\nFrom: a@x.com\n\nx\n",
    b"From: a@x.com\nFrom someone Mon Jan 1\nSubject: s\n\nx\n",
    b"From: a@x.com\n: no name\nSubject: s\n\nx\n",
    b"From: a@x.com\r\nContent-Type: TEXT/PLAIN; CHARSET=\"ISO-8859-1\"\r\n\r\nx\r\n",
    # multiparts, a digest (default type message/rfc822), an attached message
    b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain; charset=a\n\n"
    b"x\n--b\ncontent-type: message/rfc822\n\nSubject: inner\nsubject: twice\n\ny\n--b--\n",
    b"Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: in digest\n\nz\n--d--\n",
    b"Content-Type: multipart/alternative; boundary=\"q\"\nContent-Type: text/plain\n\n--q\n"
    b"Content-Disposition: attachment; filename*=utf-8''%E2%82%AC.txt\n\nx\n--q--\n",
    b"Content-Type:\nFrom: a@x.com\n\nx\n",
    b"Content-Type: /\n\nx\n",
    b"Content-Type: text/plain/extra; charset=x\n\nx\n",
]


@pytest.mark.parametrize("raw", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_header_blocks_answer_as_the_stdlib(raw: bytes) -> None:
    assert_same(raw)


def test_the_first_of_duplicate_headers_wins() -> None:
    tree = parse_tree(HOSTILE[0])
    assert tree.get("from") == "a@x.com" and tree["SUBJECT"] == "one"
    assert raw_values(tree, "from") == ["a@x.com", "b@y.com", "c@z.com"]
    assert header_index(tree)["subject"] == ["one", "two"]


MUTATIONS = [
    lambda m: m.__delitem__("content-type"),
    lambda m: m.__setitem__("Content-Type", "text/html; charset=big5"),
    lambda m: m.replace_header("from", "z@z.com"),
    lambda m: m.set_param("charset", "utf-16"),
    lambda m: m.add_header("X-New", "v", a="b"),
    lambda m: m.set_raw("FROM", "raw@x.com"),
    lambda m: m.set_type("text/enriched"),
    lambda m: m.del_param("charset"),
    lambda m: m.__delitem__("from"),
    lambda m: m.set_default_type("message/rfc822"),
]


def test_headers_changed_after_parsing_are_seen_as_the_stdlib_sees_them() -> None:
    raw = HOSTILE[1].replace(b"\n\n", b"\nFrom: a@x.com\nfrom: b@x.com\n\n", 1)
    ours, theirs = parse_tree(raw), stdlib_tree(raw)
    ours.get("content-type")  # the index is built before the headers change
    for mutate in MUTATIONS:
        mutate(ours)
        mutate(theirs)
        assert answers(ours) == answers(theirs)
    assert ours.get("content-type") == "text/enriched" and ours.get("from") is None


CONTENT_TYPES = [
    'text/plain; charset="utf-8"', "text/plain; charset=utf-8", "text/plain; CharSet = UTF-8 ",
    "text/plain", "text/plain;", "text/plain; charset=", 'text/plain; charset=""',
    'text/plain; charset="utf-8', "charset=utf-8", "charset", "text/plain; charset*=utf-8''x",
    "text/plain; charset*0=utf; charset*1=-8", "text/plain; charset=utf-8; charset=latin1",
    "text/plain; format=flowed; charset=utf-8", "text/plain;charset=<utf-8>",
    'text/plain; charset=\\"x', "text/plain; charset=utf-8 (comment)", "text/plain;\n charset=a",
    'text/"plain; charset=a"; charset=b', "", ";", 'text/plain; charset="a;b"',
    "text/plain; charset=a=b", "text/plain; name=charset=x", "text/plain; charset=a\tb",
    "text/plain; charset= a", 'text/plain; charset="\\a"', "text/plain\x0b; charset=a\x0c",
    "text/plain; charset=\u00e9", "text/plain; charset=a\\", "text/plain; charset=a;",
]


@pytest.mark.parametrize("value", CONTENT_TYPES)
def test_content_charset_answers_as_get_content_charset(value: str) -> None:
    part = Tree()
    part["Content-Type"] = value
    assert answer(lambda: content_charset(part)) == answer(part.get_content_charset)


def test_content_charset_on_random_content_types() -> None:
    pieces = ["text/plain", "charset", "=", ";", '"', "\\", " ", "\t", "utf-8", "*", "(", ")",
              "a", "<", ">", "\n ", "x/y", "'", "name", "\u00e9"]
    rng = random.Random(22)
    for _ in range(5000):
        value = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 9)))
        part = Tree()
        part["Content-Type"] = value
        assert answer(lambda p=part: content_charset(p)) == answer(part.get_content_charset), \
            value


HEADER_VALUES = [
    "plain", "", " spaced ", "=?utf-8?q?caf=C3=A9?=", "a\n b", "a\r\n\tb", "a\rb",
    "\x1b$B$3$s\x1b(B", "esc \x1b alone", "=? not a word", "caf\udce9", "\u00e9t\u00e9",
    "tab\there", "=?iso-2022-jp?b?GyRCJDMkcxsoQg==?=",
]


@pytest.mark.parametrize("value", HEADER_VALUES)
@pytest.mark.parametrize("hint", [None, "koi8-r"])
def test_header_text_answers_as_its_full_decoding(value: str, hint: str | None) -> None:
    assert header_text(value, hint) == decode_words(unfold(decode_header_bytes(value, hint)))


def repair_head_line_by_line(raw: bytes) -> bytes:
    """repair_head without its one-search shortcut: every line of the header block tested."""
    raw = raw.lstrip(b" \t\r\n")
    ends = [i for i in (raw.find(b"\n\n"), raw.find(b"\n\r\n")) if i >= 0]
    return mend_lines(raw, min(ends) if ends else len(raw))


BLOCKS = [
    b"", b"\n", b"From: a@x.com", b"From: a@x.com\n", b"From: a@x.com\n\nbody",
    b"To: a@x.com,\nb@y.com\nSubject: s\n\nx", b"To: a@x.com,\n<b@y.com>\n\nx",
    b"Subject: s\nno header here\nTo: b@y.com\n\n", b"To: a@x.com\r\nb@y.com\r\n\r\nx",
    b"\n\n  From: a@x.com\n\nx", b"From : a@x.com\nSubject: x\n", b"Subject: s\n\r\nbody",
    b"X: 1\n\tcontinued\n more\nY: 2\n\n", b"To: a\n@b\n", b"Cc: a@x.com\n\x80@y.com\n\n",
    b"Received: x\nFrom a@x.com Mon\n\n",
]


def test_repair_head_mends_what_it_mended_line_by_line() -> None:
    paths = sorted((CORPUS / "mails").rglob("*.eml")) if CORPUS.exists() else []
    rng = random.Random(22)
    pieces = [b"To: ", b"a@x.com", b"\n", b" ", b"\t", b"x", b":", b"\r\n", b">", b"From"]
    fuzz = [b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 12))) for _ in range(3000)]
    for raw in [*BLOCKS, *fuzz, *(path.read_bytes() for path in paths)]:
        assert repair_head(raw) == repair_head_line_by_line(raw), raw[:200]


def parsed_state(tree: EmailMessage) -> dict[str, Any]:
    """All a parsed part holds, but the index Tree keeps of it."""
    state = {k: v for k, v in vars(tree).items() if k not in ("_snapshot", "_index")}
    state["defects"] = [(type(d).__name__, str(d)) for d in tree.defects]
    state["policy"] = type(tree.policy).__name__
    return state


def assert_plain_tree_as_parsed(text: str) -> bool:
    """plain_tree builds what the parser builds, or leaves the text to it; True if it built."""
    mine = plain_tree(text)
    if mine is None:
        return False
    parser = FeedParser(_factory=Tree, policy=compat32)
    parser.feed(text)
    theirs = parser.close()
    assert parsed_state(mine) == parsed_state(theirs), text[:300]
    assert answers(mine) == answers(theirs)
    return True


PLAIN_BLOCKS = [
    "From: a@x.com\n\nbody", "From: a@x.com\r\nSubject: s\r\n\r\nbody\r\n", "X:\n\n",
    "X:   \n\t\n\nb", "Subject: folded\n  over\n\tthree\n\n", "Subject: a\r\n b\r\n\r\n",
    "A: 1\nA: 2\na: 3\n\n\n\nbody\n\n", "To: a\n \n\n", "X: \udce9t\udce9\n\n\udcff",
    "Content-Type: text/html\n\n<p>", "Content-Type: multipart/mixed; boundary=b\n\n--b--\n",
    "Content-Type: message/rfc822\n\nSubject: in\n\n", "content-type: Message/Delivery-Status\n\n",
    "Content-Type: multipart /mixed\n\nx",
    "Content-Type: text/plain\ncontent-type: multipart/x\n\n",
    "From x@y Mon\nSubject: s\n\n", "X: a\rb\n\n", "X: a\r\r\n\n", "X: a\n\r\n", "X: a\nb\n\n",
    " X: a\n\n", ": a\n\n", "X: a", "X: a\n", "X: a\n\r", "X y: a\n\n", "X:a\n\x0b\n\n",
    "X: a\r\n\n", "X: a\n\r\nbody\r", "X: a\u2028b\n\n", "X: a\x85b\n\n",
]


def test_plain_header_blocks_are_read_as_the_parser_reads_them() -> None:
    built = [assert_plain_tree_as_parsed(text) for text in PLAIN_BLOCKS]
    assert built.count(True) >= 15 and built.count(False) >= 10


def test_random_header_blocks_are_read_as_the_parser_reads_them() -> None:
    # What bytes decoded as the parser's input can hold: ASCII and escaped 8-bit bytes.
    starts = ["X:", "X: ", "From:", "From ", " ", "\t", ":", "Content-Type: ", "a b:", ""]
    values = ["a", " ", "\t", "\udce9", "\x0b", "\x1c", "\x0c", "multipart/x", "message/y",
              "text/plain", ";", ":", "\r"]
    ends = ["\n", "\n", "\r\n", "\r", ""]
    rng = random.Random(22)
    built = 0
    for _ in range(20000):
        lines = ["".join([rng.choice(starts), *rng.choices(values, k=rng.randint(0, 3)),
                          rng.choice(ends)]) for _ in range(rng.randint(1, 5))]
        text = "".join(lines) + rng.choice(["\n", "\r\n", "", "x\n"]) + "body"
        built += assert_plain_tree_as_parsed(text)
    assert built > 500


@pytest.mark.corpus(CORPUS)
def test_corpus_messages_are_read_as_the_parser_reads_them() -> None:
    paths = sorted((CORPUS / "mails").rglob("*.eml"))
    texts = [repair_head(p.read_bytes()).decode("ascii", "surrogateescape") for p in paths]
    built = sum(assert_plain_tree_as_parsed(text) for text in texts)
    assert built >= 30


def test_message_ids_lose_every_space_the_regex_dropped() -> None:
    spaces = [chr(c) for c in range(0x3000 + 1) if chr(c).isspace()] + ["\u200b", "\ufeff"]
    for space in spaces:
        value = f" <a{space}b@{space}Host> "
        assert message_id_as_written(value) == re.sub(r"\s+", "", "a" + space + "b@" + space
                                                      + "Host")
