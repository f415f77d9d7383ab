"""Both cores (SPEC 17): worker processes read the mail, the pass decides, commits and moves in
order. A pass read by workers ends exactly as a serial one: same outcomes, one touchpoint per
message, second copies skipped, replies threaded to mail of the same pass."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ProcessPoolExecutor

import pytest

from poller.imap.wire import Fetched
from poller.mail.message import Message
from poller.passes import workers as parallel
from poller.passes.workers import Reader
from poller.understand.early import Ahead
from tests.builders import make_mail


def _mailbox() -> list[bytes]:
    mail = []
    for n in range(24):
        mail.append(make_mail(to="wile@acme.com", message_id=f"<m{n}@ourco.com>",
                              subject=f"Rollout {n}"))
    # A reply to mail earlier in the same pass, a second copy in the same batch, a stranger,
    # and bytes that are no mail at all.
    mail.append(make_mail(to="wile@acme.com", message_id="<reply@ourco.com>",
                          headers={"In-Reply-To": "<m3@ourco.com>"}, subject="Re: Rollout 3"))
    mail.append(make_mail(to="wile@acme.com", message_id="<m5@ourco.com>", subject="Rollout 5"))
    mail.append(make_mail(to="someone@nowhere-known.com", message_id="<stranger@ourco.com>"))
    mail.append(b"\x00\x01 not a mail at all\r\n")
    # What the workers decide from the message alone (poller.understand.early): a filter, the
    # trusted server's verdict, who takes part (a note, and mail naming no customer).
    mail.append(make_mail(to="wile@acme.com", subject="Automatic reply: away",
                          headers={"X-Autoreply": "yes"}))
    mail.append(make_mail(to="wile@acme.com", auth="dmarc=fail header.from=ourco.com"))
    mail.append(make_mail(to="touchpoints@ourco.com", subject="Call with wile@acme.com",
                          message_id="<note@ourco.com>"))
    mail.append(make_mail(to="pat@ourco.com", subject="Lunch"))
    return mail


@pytest.mark.parametrize("workers", ["serial", "parallel"])
def test_a_pass_read_by_workers_ends_as_a_serial_one(world, monkeypatch, workers):
    # Batches of 10: the reply and the second copy come batches after what they refer to.
    world.write_settings(mailbox={"batch_size": 10})
    monkeypatch.setattr(parallel, "PARALLEL_MIN", 1 if workers == "parallel" else 10**9)
    world.imap.seed(_mailbox())
    summary = world.poll().strip()
    assert summary.startswith("logged 26, skipped 2 (auto_generated 1, duplicate 1), failed 4 ("), \
        summary
    tps = {tp["message_id"]: tp for tp in world.touchpoints()}
    assert len(tps) == 26
    assert tps["reply@ourco.com"]["thread_id"] == tps["m3@ourco.com"]["id"]
    assert tps["note@ourco.com"]["scenario"] == "note"
    assert world.folder_contents("INBOX") == {}
    assert len(world.folder_contents("Touchpoints/Logged")) == 28
    assert sorted(f["reason"] for f in world.failures()) == [
        "no_account", "no_customer_address", "parse_error", "unauthenticated_sender"]


def test_the_workers_really_run_elsewhere(world, monkeypatch):
    """The pool is used: the parse of each message, and what the message alone decides (an
    Ahead), happen in another process."""
    seen: list[bool] = []
    original = Reader._pairs

    def spy(self, fetched, parsed):
        for item, result in original(self, fetched, parsed):
            seen.append(self.pool is not None and isinstance(result, Ahead))
            yield item, result

    monkeypatch.setattr(parallel, "PARALLEL_MIN", 1)
    monkeypatch.setattr(Reader, "_pairs", spy)
    world.imap.seed([make_mail(to="wile@acme.com") for _ in range(6)])
    assert world.poll().startswith("logged 6,")
    if (parallel.worker_count()) > 1:
        assert seen and all(seen)


def test_a_worker_that_dies_costs_no_message():
    """The messages a dead worker held are read in the pass itself."""
    reader = Reader(messages=0)
    fetched = [Fetched(uid=n, raw=make_mail(to="wile@acme.com"), internal_date=None, flags=())
               for n in range(1, 5)]
    with ProcessPoolExecutor(1) as pool:
        dying = pool.map(os._exit, [3] * len(fetched))  # the worker process ends at once
        pairs = list(reader._pairs(fetched, dying))
    assert [f.uid for f, _ in pairs] == [1, 2, 3, 4]
    assert all(isinstance(parsed, Message) for _, parsed in pairs)


def test_a_pass_read_by_workers_moves_on_a_session_of_its_own(world, monkeypatch):
    """poller.passes.mover: committed sets go to the folders on a second IMAP session while the
    pass commits on; every message still ends exactly once, in its folder."""
    from poller.passes import mover, poll

    handed: list[int] = []
    original = mover.Mover.hand

    def counted(self, outcomes):
        handed.append(len(outcomes))
        return original(self, outcomes)

    world.write_settings(mailbox={"batch_size": 10})
    monkeypatch.setattr(parallel, "PARALLEL_MIN", 1)
    monkeypatch.setattr(poll, "MOVE_EVERY", 10)
    monkeypatch.setattr(mover.Mover, "hand", counted)
    world.imap.seed(_mailbox())
    summary = world.poll().strip()
    assert summary.startswith("logged 26, skipped 2 (auto_generated 1, duplicate 1), failed 4 ("), \
        summary
    assert handed == [10, 10, 10]  # the last two are moved by the pass itself, at its end
    assert world.folder_contents("INBOX") == {}
    assert len(world.folder_contents("Touchpoints/Logged")) == 28
    assert len(world.folder_contents("Touchpoints/Failed")) == 4
    assert len(world.touchpoints()) == 26


def test_what_the_mover_could_not_move_the_next_pass_moves(world, monkeypatch):
    """The mover's session refused (the server at its connection limit): the pass stops with one
    line saying what is committed and not moved; the next pass only moves those, once."""
    from core.errors import MailboxError
    from poller.passes import mover, poll

    def refused(settings):
        raise MailboxError("imap 127.0.0.1: connection refused")

    world.write_settings(mailbox={"batch_size": 10})
    monkeypatch.setattr(parallel, "PARALLEL_MIN", 1)
    monkeypatch.setattr(poll, "MOVE_EVERY", 10)
    reachable = mover.open_mailbox
    monkeypatch.setattr(mover, "open_mailbox", refused)
    world.imap.seed(_mailbox())
    failed = world.touchlog("poll", "--once", expect=1)
    assert "imap 127.0.0.1: connection refused (20 committed message(s) not moved yet: the " \
        "next pass moves them)" in failed.output, failed.output
    assert len(world.folder_contents("INBOX")) == 32
    monkeypatch.setattr(mover, "open_mailbox", reachable)
    summary = world.poll().strip()
    assert summary.startswith("logged 6, skipped 2 (auto_generated 1, duplicate 1), failed 4 ("), \
        summary
    assert summary.endswith("recovered 20 (committed by an earlier pass, moved now)"), summary
    assert world.folder_contents("INBOX") == {}
    assert len(world.touchpoints()) == 26


def test_the_next_batch_is_fetched_on_a_thread_of_its_own(world, monkeypatch):
    """While the pass commits a batch, the fetch thread reads the next one from the server; the
    pass ends as a serial one would."""
    from poller.imap.session import Mailbox

    threads: list[str] = []
    real = Mailbox.fetch

    def fetch(self, folder, uids):
        threads.append(threading.current_thread().name)
        return real(self, folder, uids)

    world.write_settings(mailbox={"batch_size": 10})
    monkeypatch.setattr(parallel, "PARALLEL_MIN", 1)
    monkeypatch.setattr(Mailbox, "fetch", fetch)
    world.imap.seed(_mailbox())
    summary = world.poll().strip()
    assert summary.startswith("logged 26, skipped 2 (auto_generated 1, duplicate 1), failed 4 ("), \
        summary
    assert len(threads) == 4
    assert all(name.startswith("touchlog-fetch") for name in threads), threads
    assert world.folder_contents("INBOX") == {}


def test_a_fetch_failing_on_the_fetch_thread_loses_nothing(world, monkeypatch):
    """The connection breaks while the third batch is fetched: the pass stops with the server's
    one line, what it committed before stays committed, and the next pass logs the rest, each
    message once."""
    from core.errors import MailboxError
    from poller.imap.session import Mailbox
    from poller.passes import poll

    calls: list[int] = []
    real = Mailbox.fetch

    def fetch(self, folder, uids):
        calls.append(len(uids))
        if len(calls) == 3:
            raise MailboxError("imap 127.0.0.1: fetch from INBOX: connection reset by peer")
        return real(self, folder, uids)

    world.write_settings(mailbox={"batch_size": 10})
    monkeypatch.setattr(parallel, "PARALLEL_MIN", 1)
    monkeypatch.setattr(poll, "MOVE_EVERY", 10)
    monkeypatch.setattr(Mailbox, "fetch", fetch)
    world.imap.seed([make_mail(to="wile@acme.com", message_id=f"<f{n}@ourco.com>")
                     for n in range(35)])
    failed = world.touchlog("poll", "--once", expect=1)
    assert "imap 127.0.0.1: fetch from INBOX: connection reset by peer" in failed.output, \
        failed.output
    assert len(world.touchpoints()) == 20  # the two batches fetched before it, committed
    monkeypatch.setattr(Mailbox, "fetch", real)
    summary = world.poll().strip()
    assert summary.startswith("logged 15,"), summary
    assert world.folder_contents("INBOX") == {}
    assert len(world.folder_contents("Touchpoints/Logged")) == 35
    assert sorted(tp["message_id"] for tp in world.touchpoints()) == \
        sorted(f"f{n}@ourco.com" for n in range(35))
