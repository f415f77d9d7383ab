"""The real-world corpus: every message reads, and the filters agree with its categories."""

from __future__ import annotations

import csv
import re
from functools import cache

import pytest

from poller.mail.message import Message, parse_message
from poller.understand.filters import skip_reason
from tools.shared import shared_dir

CORPUS = shared_dir() / "corpus"
REASONS = {None, "auto_generated", "bulk", "bounce", "calendar", "own_notice"}
SKIPPED_CATEGORIES = ("autoreply", "bounce", "calendar")
# Public list archives add these to every post they keep, forwards included.
ARCHIVE_HEADERS = re.compile(
    rb"^(precedence|list-[\w-]+|feedback-id):.*\n(?:[ \t].*\n)*", re.I | re.M
)

pytestmark = pytest.mark.corpus(CORPUS)


@cache
def manifest() -> list[tuple[str, str]]:
    with (CORPUS / "MANIFEST.tsv").open(encoding="utf-8") as rows:
        return [(row["path"], row["category"]) for row in csv.DictReader(rows, delimiter="\t")]


@cache
def parsed(path: str) -> Message:
    return parse_message((CORPUS / path).read_bytes())


def paths(*prefixes: str) -> list[str]:
    return [path for path, category in manifest() if category.startswith(prefixes)]


def test_every_message_parses_and_gets_a_reason_or_none() -> None:
    for path, _ in manifest():
        msg = parsed(path)
        assert isinstance(msg.text, str) and msg.key, path
        assert skip_reason(msg) in REASONS, path


@pytest.mark.parametrize("category", SKIPPED_CATEGORIES)
def test_auto_generated_categories_are_skipped(category: str) -> None:
    messages = paths(category)
    missed = [path for path in messages if skip_reason(parsed(path)) is None]
    print(f"{category}: {len(messages) - len(missed)}/{len(messages)} skipped; missed: {missed}")
    assert len(missed) <= len(messages) // 10


def test_list_mail_is_mostly_skipped() -> None:
    messages = paths("list")
    missed = [path for path in messages if skip_reason(parsed(path)) is None]
    print(f"list: {len(messages) - len(missed)}/{len(messages)} skipped; missed: {missed}")
    assert len(missed) <= len(messages) // 3


def test_forwards_and_charset_mail_are_skipped_only_for_list_archive_headers() -> None:
    for path in paths("forward_", "charset"):
        assert skip_reason(parsed(path)) in (None, "bulk"), path


def test_forwards_and_charset_mail_without_archive_headers_are_never_skipped() -> None:
    for path in paths("forward_", "charset"):
        raw = (CORPUS / path).read_bytes()
        head, sep, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
        stripped = ARCHIVE_HEADERS.sub(b"", head + b"\n") + sep + body
        assert skip_reason(parse_message(stripped)) is None, path


def test_attached_forwards_are_read() -> None:
    messages = paths("forward_rfc822_attachment")
    with_inner = [path for path in messages if parsed(path).attached_messages]
    assert len(with_inner) >= len(messages) - 2


def test_charset_mail_has_no_replacement_characters_in_its_subject() -> None:
    garbled = [path for path in paths("charset") if "\ufffd" in parsed(path).subject]
    assert garbled == []


def test_a_part_passed_over_for_its_file_name_has_none():
    """poller.mail.parts asks for a file name only where Content-Disposition or a `name`
    parameter could hold one; on every part of the corpus the standard library agrees."""
    from poller.mail.parts import may_name_a_file, parse_tree

    asked = passed_over = 0
    for path, _ in manifest():
        for part in parse_tree((CORPUS / path).read_bytes()).walk():
            if may_name_a_file(part):
                asked += 1
                continue
            passed_over += 1
            assert not part.get_filename(), (path, part.get_content_type())
    assert asked and passed_over > asked
