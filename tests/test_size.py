"""SPEC 20 "Size": no message is too big or too wide for a pass, through a real Dovecot."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

from poller.notify.notice_text import UNAUTHENTICATED_SUBJECT
from tests.builders import authenticated, make_mail
from tests.world import PASSWORD_ENV, ROOT

MB = 1024 * 1024


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


def _deck(megabytes: float, n: int = 0, sender: str = "Sam Seller <sam@ourco.com>") -> bytes:
    """A copy to Wile with a deck attached (random bytes in base64, as a PDF's streams are),
    about `megabytes` on the wire."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "wile@acme.com"
    msg["Subject"] = f"The deck #{n}"
    msg["Date"] = "Mon, 02 Nov 2026 14:30:00 +0000"
    msg["Message-ID"] = f"<deck-{n}@ourco.com>"
    msg.set_content("Here is the deck we went through.")
    deck = random.Random(n).randbytes(int(megabytes * MB * 3 / 4))
    msg.add_attachment(deck, maintype="application", subtype="pdf", filename="deck.pdf")
    return authenticated(bytes(msg))


def _bytes_served(world, since: int) -> int:
    """What Dovecot sent touchlog's sessions since `since` (its log's length then): each
    session logs `out=` bytes when it ends."""
    log = world.imap.server.log_path.read_text(errors="replace")[since:]
    user = world.imap.username
    return sum(int(n) for n in re.findall(rf"imap\({re.escape(user)}\).*? out=(\d+)", log))


def test_a_message_over_the_limit_is_not_fetched_and_fails_too_large(world_with_smtp):
    world = world_with_smtp
    world.write_settings(mailbox={"max_message_bytes": 1_000_000})
    big = _deck(3, n=1)
    world.imap.append(big)
    world.imap.append(make_mail(to="wile@acme.com", message_id="<small@ourco.com>"))
    before = len(world.imap.server.log_path.read_text(errors="replace"))
    summary = world.poll()
    assert summary.startswith("logged 1, skipped 0, failed 1 (too_large 1)"), summary
    assert _bytes_served(world, before) < 200_000  # the headers, never the 3 MB
    [(flags, kept)] = world.folder_contents("Touchpoints/Failed").values()
    assert "$tl_too_large" in flags and kept.replace(b"\r\n", b"\n") == big.replace(b"\r\n", b"\n")
    [failure] = world.failures()
    assert failure["reason"] == "too_large" and failure["subject"] == "The deck #1"
    assert "over mailbox.max_message_bytes (1,000,000)" in failure["detail"]
    [notice] = world.smtp.messages
    assert notice.rcpt_tos == ["sam@ourco.com"]
    assert notice.message["Subject"] == "Touchpoint not logged: The deck #1"
    assert notice.message["In-Reply-To"] == "<deck-1@ourco.com>"
    body = notice.message.get_payload(decode=True).decode()
    assert "larger than touchlog reads (mailbox.max_message_bytes)" in body


def test_too_large_from_a_forger_tells_only_the_member_whose_address_was_used(world_with_smtp):
    world = world_with_smtp
    world.write_settings(mailbox={"max_message_bytes": 1_000_000})
    forged = _deck(2, n=2).replace(
        b"dmarc=pass (p=reject) header.from=ourco.com", b"dmarc=fail header.from=ourco.com")
    world.imap.append(forged)
    assert "failed 1 (unauthenticated_sender 1)" in world.poll()
    [notice] = world.smtp.messages
    assert notice.message["Subject"] == UNAUTHENTICATED_SUBJECT
    assert notice.message["In-Reply-To"] is None


_PEAK = ("import resource, subprocess, sys\n"
         "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
         "sys.stderr.write(done.stdout + done.stderr)\n"
         "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)\n")


def _peak_mb(world, *args: str) -> tuple[int, str]:
    """`touchlog poll --once` as cron runs it: its peak resident memory in MB (a pass under
    PARALLEL_MIN messages is one process) and what it printed."""
    env = {**os.environ, PASSWORD_ENV: world.imap.password}
    done = subprocess.run([sys.executable, "-c", _PEAK, sys.executable, str(ROOT / "cli.py"),
                           "--config", str(world.config), "poll", "--once", *args],
                          cwd=world.folder, env=env, capture_output=True, text=True, check=True)
    return int(done.stdout), done.stderr


def test_a_pass_holds_under_200_mb_and_4x_its_largest_message(world):
    world.write_settings(mailbox={"max_message_bytes": 60 * MB})
    world.imap.seed([make_mail(to="wile@acme.com", message_id=f"<s{i}@ourco.com>")
                     for i in range(10)] + [_deck(43, n=3)])
    peak, said = _peak_mb(world)
    assert said.startswith("logged 11, skipped 0, failed 0"), said
    assert peak < 200 + 4 * 43, f"{peak} MB (before issue 20: 421 MB)"


def test_batches_are_cut_by_bytes(world):
    world.write_settings(mailbox={"batch_bytes": 7 * MB})
    world.imap.seed([_deck(3, n=10)])
    alone, said = _peak_mb(world)
    assert said.startswith("logged 1, skipped 0, failed 0"), said
    # 60 MB of mail, 50 messages a batch by count: by bytes, two at a time.
    world.imap.seed([_deck(3, n=11 + i) for i in range(20)])
    peak, said = _peak_mb(world)
    assert said.startswith("logged 20, skipped 0, failed 0"), said
    assert peak < alone + 20, f"{peak} MB against {alone} MB for one message alone"


def _rss_mb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, flags=re.MULTILINE)
    return int(found.group(1)) // 1024 if found else 0


def _pass_under_an_oom_killer(world, limit_mb: int) -> bool:
    """One `poll --once` that is SIGKILLed, as the kernel's out-of-memory killer does, once it
    holds more than `limit_mb`; whether it was."""
    proc = world.spawn("poll", "--once")
    killed = False
    while proc.poll() is None:
        if _rss_mb(proc.pid) > limit_mb:
            proc.send_signal(signal.SIGKILL)
            killed = True
        time.sleep(0.005)
    output = proc.communicate()[0]
    assert killed or proc.returncode == 0, output
    return killed


def test_a_message_that_kills_every_pass_ends_internal_error(world_with_smtp):
    world = world_with_smtp
    world.write_settings(mailbox={"max_message_bytes": 60 * MB, "max_attempts": 2})
    small = [make_mail(to="wile@acme.com", message_id=f"<s{i}@ourco.com>") for i in range(6)]
    world.imap.seed(small[:3] + [_deck(30, n=4)] + small[3:])
    kills = [_pass_under_an_oom_killer(world, limit_mb=120) for _ in range(5)]
    # The batch in hand, then the deck read alone twice (two tries), then given up unread.
    assert kills == [True, True, True, False, False], kills
    assert len(world.folder_contents("Touchpoints/Logged")) == 6
    [(flags, kept)] = world.folder_contents("Touchpoints/Failed").values()
    assert "$tl_internal_error" in flags and b"<deck-4@ourco.com>" in kept
    [failure] = world.failures()
    assert failure["reason"] == "internal_error"
    assert "killed while reading it" in failure["detail"]
    [notice] = world.smtp.messages  # the admins are told, once
    assert notice.rcpt_tos == ["ann@ourco.com"]
    runs = json.loads(world.touchlog("runs", "--format", "json").output)
    assert [r["status"] for r in runs][-3:] == ["killed", "killed", "killed"]
