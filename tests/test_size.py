"""SPEC 20 "Size": no message is too big or too wide for a pass, through a real Dovecot."""

from __future__ import annotations

import time

from tests.builders import authenticated


def _to_a_crowd(people: int) -> bytes:
    """A message to Wile and `people` others in To and Cc, folded as mailers fold it (built by
    hand: the email package's folding of such a header takes minutes)."""
    half = people // 2
    to = ",\r\n ".join(["wile@acme.com"] + [f"Person {i} <p{i}@crowd{i % 997}.example>"
                                              for i in range(half)])
    cc = ",\r\n ".join(f'"Last, {i}" <q{i}@crowd{i % 991}.example>' for i in range(half))
    return authenticated((f"From: Sam Seller <sam@ourco.com>\r\nTo: {to}\r\nCc: {cc}\r\n"
                          "Subject: All hands\r\nDate: Mon, 02 Nov 2026 14:30:00 +0000\r\n"
                          "Message-ID: <crowd@ourco.com>\r\n\r\nEveryone is welcome.\r\n"
                          ).encode())


def test_a_message_to_100000_people_is_logged_in_seconds(world):
    world.imap.append(_to_a_crowd(100_000))
    start = time.process_time()  # CPU, not wall: the machine is shared
    summary = world.poll()
    seconds = time.process_time() - start
    assert summary.startswith("logged 1, skipped 0, failed 0")
    assert seconds < 20, f"{seconds:.0f} s of CPU (before issue 20: over a minute)"
    [tp] = world.touchpoints()
    assert tp["account_id"] == "ACME" and tp["rule"] == "contact"
    assert len(tp["participants"]) == 100_002  # Sam, Wile and the crowd
