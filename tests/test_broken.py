"""Mail that breaks touchlog, notices a server refuses, keys from any bytes (SPEC 17, issue 9)."""

from __future__ import annotations

import json
import re

import pytest

from tests.builders import break_on, make_mail


def _runs(world) -> list[dict]:
    return json.loads(world.touchlog("runs", "--format", "json").output)


def test_a_message_that_breaks_touchlog_fails_internal_error_after_three_tries(
        world_with_smtp, monkeypatch):
    world = world_with_smtp
    break_on(monkeypatch, "boom", "something touchlog did not expect")
    raw = make_mail(to="wile@acme.com", subject="boom pricing", message_id="<boom@ourco.com>")
    world.imap.append(raw)
    world.imap.append(make_mail(to="wile@acme.com", message_id="<fine@ourco.com>"))
    first = world.poll()
    assert first.startswith("logged 1,") and "errors 1" in first  # the pass goes on
    assert "try 1 of 3" in _runs(world)[0]["errors"][0]
    assert len(world.folder_contents("INBOX")) == 1  # left for another try
    assert "errors 1" in world.poll()
    assert world.smtp.messages == []
    third = world.poll()
    assert "failed 1 (internal_error 1)" in third
    assert world.folder_contents("INBOX") == {}
    [(flags, kept)] = world.folder_contents("Touchpoints/Failed").values()
    assert "$tl_internal_error" in flags
    assert b"Message-ID: <boom@ourco.com>" in kept and b"boom pricing" in kept
    [failure] = world.failures()
    assert failure["reason"] == "internal_error"
    assert "RuntimeError: something touchlog did not expect" in failure["detail"]
    # one notice, to the team's admin (not the sender: the fault is touchlog's)
    [notice] = world.smtp.messages
    assert notice.rcpt_tos == ["ann@ourco.com"]
    assert "boom pricing" in notice.message["Subject"]
    world.poll()
    assert world.smtp.messages == [notice]


def test_a_notice_refused_for_good_is_failed_after_max_attempts(world_with_smtp):
    world = world_with_smtp
    world.write_settings(notify={"max_attempts": 2})
    world.smtp.reject["sam@ourco.com"] = "550 5.1.1 no such mailbox here"
    world.imap.append(make_mail(to="x@unknown-corp.com", message_id="<nobody@ourco.com>"))
    world.poll()
    [state] = _notices_of(world)
    assert state["status"] == "pending" and state["attempts"] == 1
    world.poll()
    [state] = _notices_of(world)
    assert state["status"] == "failed" and state["attempts"] == 2
    assert "550 5.1.1 no such mailbox here" in state["last_error"]
    [run, *_] = _runs(world)
    assert run["counts"]["notices:undeliverable"] == 1
    assert any("failed after 2 tries" in e and "sam@ourco.com" in e for e in run["errors"])
    [failure] = world.failures()
    shown = world.touchlog("failures", "show", str(failure["uid"])).output
    assert re.search(r"^notice: +to sam@ourco\.com: failed after 2 tries: refused: 550 5\.1\.1",
                     shown, re.M), shown
    # never tried again
    world.poll()
    assert _notices_of(world)[0]["attempts"] == 2


def test_a_temporary_refusal_stays_pending_past_max_attempts(world_with_smtp):
    world = world_with_smtp
    world.write_settings(notify={"max_attempts": 1})
    world.smtp.reject["sam@ourco.com"] = "450 4.2.1 try again later"
    world.imap.append(make_mail(to="x@unknown-corp.com"))
    world.poll()
    world.poll()
    [state] = _notices_of(world)
    assert (state["status"], state["attempts"]) == ("pending", 2)
    del world.smtp.reject["sam@ourco.com"]
    world.poll()
    assert _notices_of(world)[0]["status"] == "sent"


def test_a_notice_sent_again_after_a_lost_commit_keeps_its_message_id(world_with_smtp):
    """The server took it, then the worker died before `sent` was committed: the next pass
    sends it again, and mail clients show one notice (same Message-ID)."""
    from core.settings import load_settings
    from store.db import open_database
    from store.ledger.models import Notice

    world = world_with_smtp
    world.imap.append(make_mail(to="x@unknown-corp.com"))
    world.poll()
    open_database(load_settings(world.config).database_url())
    Notice.update(status="pending", sent_at=None).execute()  # the lost commit
    world.poll()
    first, again = world.smtp.messages
    assert first.message["Message-ID"] == again.message["Message-ID"]


def _notices_of(world) -> list[dict]:
    [failure] = world.failures()
    shown = world.touchlog("failures", "show", str(failure["uid"]), "--format", "json").output
    return json.loads(shown)["notices"]


@pytest.mark.parametrize("bad", [b"\x80", b"\x00", b"\xff\xfe", b"\x1b"],
                         ids=["8bit", "nul", "bad-utf8", "escape"])
def test_any_bytes_in_a_message_id_end_with_an_outcome(world, bad):
    """The issue's repro: a non-UTF-8 byte in the Message-ID made the key lookup raise on
    every pass. Two ids that differ only in such bytes stay two messages."""
    for n, other in enumerate((bad, b"\x81" if bad != b"\x81" else b"\x82")):
        raw = (b"Message-ID: <a" + other + b"b@fuzz.test>\r\nFrom: Joe <joe@ourco.com>\r\n"
               b"To: c@customer.com\r\nSubject: hi " + str(n).encode() + b"\r\n\r\nbody\r\n")
        world.imap.append(raw)
    out = world.poll()
    assert "errors" not in out, out
    assert world.folder_contents("INBOX") == {}
    assert len(world.folder_contents("Touchpoints/Failed")) == 2
    assert "errors" not in world.poll()
    reasons = {f["reason"] for f in world.failures()}
    assert reasons == {"unknown_sender"}
