"""A batch's FETCH answer read directly (poller.imap.bodies), and imapclient's parser for any
other shape: every shape gives what imapclient gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from imapclient.response_parser import parse_fetch_response

from poller.imap import bodies
from poller.imap.bodies import fetch_bodies, read_bodies
from poller.imap.session import Mailbox
from tests.world import PASSWORD, ImapAccount

BODY = b"From: a@b.c\r\nSubject: (odd) ) \"x\" {12}\r\n\r\nUID 99 FLAGS (\\Deleted)\r\n"


def imapclient_reads(data: list[Any]) -> dict[int, tuple[bytes, datetime | None, tuple]]:
    parsed = parse_fetch_response(data, False, True)
    return {uid: (bytes(item[b"BODY[]"]), item[b"INTERNALDATE"].astimezone(UTC),
                  tuple(item[b"FLAGS"])) for uid, item in parsed.items()}


@pytest.mark.parametrize("data", [
    # Dovecot's order: UID, FLAGS, INTERNALDATE, then the body.
    [(b'1 (UID 7 FLAGS (\\Seen $Label) INTERNALDATE "04-Mar-2025 10:30:00 +0100" BODY[] {%d}'
      % len(BODY), BODY), b")"],
    # The body first, the rest in the tail; a space-padded day and a zone west of UTC.
    [(b"2 (BODY[] {%d}" % len(BODY), BODY),
     b' UID 8 INTERNALDATE " 4-Mar-2025 01:02:03 -0730" FLAGS ())'],
    # Two messages, no flags at all on the second.
    [(b'3 (UID 9 FLAGS () INTERNALDATE "31-Dec-2024 23:59:59 +0000" BODY[] {3}', b"abc"), b")",
     (b'4 (UID 10 INTERNALDATE "01-Jan-2025 00:00:00 +0000" FLAGS (\\Flagged) BODY[] {0}', b""),
     b")"],
], ids=["dovecot", "body_first_west", "two"])
def test_our_shape_is_read_as_imapclient_reads_it(data):
    assert read_bodies(data) == imapclient_reads(data)


def test_dates_are_utc():
    data = [(b'1 (UID 7 FLAGS () INTERNALDATE " 4-Mar-2025 01:02:03 -0730" BODY[] {1}', b"x"),
            b")"]
    (raw, when, flags), = read_bodies(data).values()
    assert when == datetime(2025, 3, 4, 1, 2, 3,
                            tzinfo=timezone(-timedelta(hours=7, minutes=30))).astimezone(UTC)
    assert when.tzinfo == UTC and (raw, flags) == (b"x", ())


@pytest.mark.parametrize("data", [
    [b"5 (UID 11 FLAGS (\\Seen))"],  # an unsolicited FETCH, no body
    [b'6 (UID 12 FLAGS () INTERNALDATE "04-Mar-2025 10:30:00 +0100" BODY[] NIL)'],  # vanished
    [(b'7 (UID 13 FLAGS () INTERNALDATE "04-Mar-2025 10:30:00 +0100" BODY[] {1}', b"x"),
     (b" X-EXTRA {2}", b"yy"), b")"],  # a second literal
    [(b'8 (UID 14 FLAGS () INTERNALDATE "4 March 2025" BODY[] {1}', b"x"), b")"],  # odd date
    [(b'9 (FLAGS () INTERNALDATE "04-Mar-2025 10:30:00 +0100" BODY[] {1}', b"x"), b")"],  # no UID
])
def test_any_other_shape_is_left_to_imapclient(data):
    assert read_bodies(data) is None


@pytest.mark.imap
def test_dovecots_answer_is_read_directly_and_whole(imap: ImapAccount, monkeypatch) -> None:
    raws = [b"From: seller@ourco.com\r\nSubject: n%d\r\n\r\nBody %d\r\n" % (n, n) for n in range(3)]
    with imap.client() as client:
        for n, raw in enumerate(raws):
            client.append("INBOX", raw, msg_time=datetime(2025, 3, 4, 9, 30 + n, tzinfo=UTC))
    monkeypatch.setattr(bodies, "_through_imapclient", lambda *a: pytest.fail("fell back"))
    with Mailbox.connect(imap.settings(), PASSWORD) as box:
        uids = box.uids("INBOX")
        box.fetch_raw("INBOX", uids[0])  # selects the folder
        found = fetch_bodies(box._client, uids + [uids[-1] + 100])
    assert [found[uid][0] for uid in uids] == raws
    assert [found[uid][1] for uid in uids] == [datetime(2025, 3, 4, 9, 30 + n, tzinfo=UTC)
                                               for n in range(3)]
    assert uids[-1] + 100 not in found
