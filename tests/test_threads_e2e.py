"""Sending a touchpoint and replies that join its thread (SPEC 14), and fixing a failure by hand
(SPEC 13), end to end: Dovecot, the SMTP sink, the `touchlog` commands, SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest

from tests.builders import make_mail
from tests.world import World, installed

REPLY_TO = re.compile(r"^touchpoints\+tp(\d+)\.([0-9a-f]{20})@ourco\.com$")


@pytest.fixture(params=["sqlite", "postgres"])
def mailing_world(request, imap, tmp_path, smtp_sink) -> World:
    url = ("sqlite:///touchlog.db" if request.param == "sqlite"
           else request.getfixturevalue("pg_url"))
    return installed(tmp_path, imap, smtp=smtp_sink, database_url=url)


def _logged_copy(world: World) -> dict:
    world.imap.append(make_mail(to="Wile E. Coyote <wile@acme.com>", cc="ann@ourco.com",
                                subject="Rockets", message_id="<rockets-1@ourco.com>"))
    assert world.poll().startswith("logged 1,")
    [tp] = world.touchpoints()
    return tp


def _show(world: World, tp_id: int) -> dict:
    import json

    return json.loads(world.touchlog("touchpoints", "show", str(tp_id), "--format",
                                     "json").output)


def test_send_and_replies_join_the_thread(mailing_world):
    world, sink = mailing_world, mailing_world.smtp
    first = _logged_copy(world)
    out = world.touchlog("touchpoints", "send", str(first["id"]), "--as", "sam@ourco.com",
                         "--to", "internal").output
    assert "mailed touchpoint" in out
    [internal] = sink.messages
    assert sorted(internal.rcpt_tos) == ["ann@ourco.com", "sam@ourco.com"]
    body = internal.message.get_content().replace("\r\n", "\n")
    assert body.startswith("Account: Acme Corp (ACME)\nLast touch: 2026-11-02T14:30:00Z")
    match = REPLY_TO.match(internal.message["Reply-To"])
    assert match and int(match[1]) == first["id"]
    thread_address = internal.message["Reply-To"]

    # external needs a confirmation: without a terminal and without --yes, nothing is sent
    out = world.touchlog("touchpoints", "send", str(first["id"]), "--as", "sam@ourco.com",
                         "--to", "external", expect=2).output
    assert "needs --yes" in out and len(sink.messages) == 1
    world.touchlog("touchpoints", "send", str(first["id"]), "--as", "sam@ourco.com", "--to",
                   "external", "--yes")
    external = sink.messages[1]
    assert external.rcpt_tos == ["wile@acme.com"]
    assert not external.message.get_content().startswith("Account:")
    assert external.message["Reply-To"] == thread_address

    # Wile answers the external copy, with a contact of another account in Cc: still ACME
    world.imap.append(make_mail(
        sender="Wile E. Coyote <wile@acme.com>", to=thread_address, cc="hank@globex.com",
        subject="Re: Rockets", body="Ship them Tuesday.", message_id="<wile-re@acme.com>",
        headers={"In-Reply-To": external.message["Message-ID"]}))
    # Ann answers Wile's reply; a stranger and a forged token fail
    world.imap.append(make_mail(
        sender="ann@ourco.com", to=thread_address, subject="Re: Re: Rockets",
        body="Tuesday works.", message_id="<ann-re@ourco.com>",
        headers={"In-Reply-To": "<wile-re@acme.com>"}))
    world.imap.append(make_mail(sender="mallory@evil.example", to=thread_address,
                                subject="Re: Rockets", message_id="<evil@evil.example>"))
    forged = thread_address.replace(match[2], "0" * 20)
    world.imap.append(make_mail(sender="wile@acme.com", to=forged, subject="Re: Rockets",
                                message_id="<forged@acme.com>"))
    out = world.poll()
    assert out.startswith("logged 2, skipped 0, failed 2"), out
    assert "unknown_sender 1" in out and "unknown_thread 1" in out

    by_mid = {tp["message_id"]: tp for tp in world.touchpoints()}
    wile, ann = by_mid["wile-re@acme.com"], by_mid["ann-re@ourco.com"]
    assert (wile["account_id"], wile["scenario"], wile["rule"], wile["thread_id"],
            wile["creator"]) == ("ACME", "reply", "thread", first["id"], "wile@acme.com")
    assert _show(world, wile["id"])["parent_id"] == first["id"]
    assert (ann["thread_id"], _show(world, ann["id"])["parent_id"]) == (first["id"], wile["id"])
    assert ann["creator"] == "ann@ourco.com"
    assert thread_address not in [p["email"] for p in wile["participants"]]
    assert {p["email"] for p in wile["participants"]} == {"wile@acme.com", "hank@globex.com"}
    assert [r["id"] for r in _show(world, first["id"])["replies"]] == [wile["id"]]
    assert "a reply to thread" in world.touchlog("explain", str(wile["id"])).output
    assert sorted(f["reason"] for f in world.failures()) == ["unknown_sender", "unknown_thread"]


def test_a_reply_to_a_deleted_thread_is_unknown_thread(world_with_smtp):
    world = world_with_smtp
    first = _logged_copy(world)
    world.touchlog("touchpoints", "send", str(first["id"]), "--as", "sam@ourco.com", "--to",
                   "me")
    [copy] = world.smtp.messages
    assert copy.rcpt_tos == ["sam@ourco.com"]
    assert copy.message.get_content().startswith("Account: Acme Corp (ACME)")
    # a mail-logged touchpoint is corrected and deleted like any other, by its creator
    world.touchlog("touchpoints", "edit", str(first["id"]), "--as", "sam@ourco.com",
                   "--subject", "Rockets (corrected)", "--type", "telephone_call")
    fixed = _show(world, first["id"])
    assert (fixed["subject"], fixed["type"], fixed["updated_by"], fixed["source"]) == (
        "Rockets (corrected)", "telephone_call", "sam@ourco.com", "email")
    world.touchlog("touchpoints", "delete", str(first["id"]), "--as", "sam@ourco.com")
    world.imap.append(make_mail(sender="wile@acme.com", to=copy.message["Reply-To"],
                                subject="Re: Rockets", message_id="<late@acme.com>"))
    assert "unknown_thread 1" in world.poll()
    [failure] = world.failures()
    assert "no longer exists" in failure["detail"]


def test_edit_notify_new_mails_only_the_added_participants(world_with_smtp):
    world = world_with_smtp
    (world.folder / "slides.pdf").write_bytes(b"%PDF-1.4 the slides")
    tp_id = int(world.touchlog("touchpoints", "add", "--account", "ACME", "--as",
                               "sam@ourco.com", "--type", "web_meeting", "--subject", "Demo",
                               "--participant", "wile@acme.com", "--attach",
                               str(world.folder / "slides.pdf")).output)
    # external recipients without --yes: exit 2, the edit is not made either
    world.touchlog("touchpoints", "edit", str(tp_id), "--as", "sam@ourco.com",
                   "--subject", "Demo (recorded)", "--notify", "all", expect=2)
    assert _show(world, tp_id)["subject"] == "Demo"
    world.touchlog("touchpoints", "edit", str(tp_id), "--as", "sam@ourco.com",
                   "--add-participant", "road@acme.com", "--add-participant", "ann@ourco.com",
                   "--notify", "new", "--yes")
    assert sorted(tuple(m.rcpt_tos) for m in world.smtp.messages) == [
        ("ann@ourco.com",), ("road@acme.com",)]
    [slides] = list(world.smtp.messages[0].message.iter_attachments())
    assert (slides.get_filename(), slides.get_content()) == ("slides.pdf", b"%PDF-1.4 the slides")
    world.touchlog("touchpoints", "edit", str(tp_id), "--as", "sam@ourco.com", "--subject",
                   "Demo (recorded)", "--notify", "all", "--yes")
    assert sorted(r for m in world.smtp.messages[2:] for r in m.rcpt_tos) == [
        "ann@ourco.com", "road@acme.com", "wile@acme.com"]
    assert len(_show(world, tp_id)["sent"]) == 4


def test_failures_assign_logs_on_the_chosen_account(any_world):
    world = any_world
    world.imap.append(make_mail(to="pat@initech.com", subject="TPS reports",
                                message_id="<tps@ourco.com>"))
    assert "ambiguous_account 1" in world.poll()
    [failure] = world.failures()
    shown = world.touchlog("failures", "show", str(failure["uid"])).output
    assert "suggestions: Initech (INITECH); Initech Labs (INITECH2)" in shown
    world.touchlog("failures", "assign", str(failure["uid"]), "--account", "INITECH2",
                   "--as", "wile@acme.com", expect=1)
    world.touchlog("failures", "assign", str(failure["uid"]), "--account", "NOPE", "--as",
                   "ann@ourco.com", expect=1)
    out = world.touchlog("failures", "assign", str(failure["uid"]), "--account", "INITECH2",
                         "--as", "ann@ourco.com").output
    assert "rule manual, chosen by ann@ourco.com" in out
    [tp] = world.touchpoints()
    assert (tp["account_id"], tp["rule"], tp["creator"], tp["scenario"], tp["source"]) == (
        "INITECH2", "manual", "sam@ourco.com", "copy", "email")
    explained = world.touchlog("explain", str(tp["id"])).output
    assert "chosen by hand by ann@ourco.com" in explained and "ambiguous_account" in explained
    assert world.failures() == []
    [(flags, raw)] = world.folder_contents("Touchpoints/Logged").values()
    assert b"tps@ourco.com" in raw and not any(f.startswith("$tl_") for f in flags)
    # the next pass finds nothing to do, and a copy of it later is a duplicate
    world.imap.append(make_mail(to="pat@initech.com", subject="TPS reports",
                                message_id="<tps@ourco.com>"))
    assert world.poll().startswith("logged 0, skipped 1")


def _on_a_terminal(world: World, answer: bytes, *args: str) -> tuple[int, str]:
    """touchlog in its own process with a terminal for stdin and stdout, answering once."""
    import os
    import pty
    import subprocess
    import sys
    import time

    from tests.world import PASSWORD_ENV, ROOT

    leader, follower = pty.openpty()
    env = {**os.environ, PASSWORD_ENV: world.imap.password}
    proc = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "--config",
                             str(world.config), *args], stdin=follower, stdout=follower,
                            stderr=follower, env=env, cwd=world.folder)
    os.close(follower)
    seen, deadline = b"", time.monotonic() + 60
    while b"?" not in seen and time.monotonic() < deadline:
        seen += os.read(leader, 1024)
    os.write(leader, answer)
    code = proc.wait(timeout=60)
    try:
        while chunk := os.read(leader, 1024):
            seen += chunk
    except OSError:  # the terminal closes with the process
        pass
    os.close(leader)
    return code, seen.decode(errors="replace")


def test_on_a_terminal_mailing_a_customer_asks_first(world_with_smtp):
    world = world_with_smtp
    first = _logged_copy(world)
    args = ("touchpoints", "send", str(first["id"]), "--as", "sam@ourco.com", "--to", "external")
    code, out = _on_a_terminal(world, b"n\n", *args)
    assert "Mail this touchpoint to 1 external participant(s): wile@acme.com?" in out
    assert code == 1 and "nothing was sent" in out and world.smtp.messages == []
    code, out = _on_a_terminal(world, b"y\n", *args)
    assert code == 0, out
    assert [m.rcpt_tos for m in world.smtp.messages] == [["wile@acme.com"]]
