"""The first real path, end to end through Dovecot: mail in the inbox → touchpoints, folders."""

from __future__ import annotations

import json
import signal
import time

import pytest

from tests.builders import make_mail
from tests.world import PASSWORD, PASSWORD_ENV, installed


def test_bcc_copy_becomes_one_touchpoint_and_moves_to_logged(world):
    # A Bcc copy arrives without a Bcc header: only the customer is in To.
    world.imap.append(make_mail(to="Wile E. Coyote <wile@acme.com>", cc="ann@ourco.com",
                                message_id="<copy-1@ourco.com>",
                                body="Hi Wile,\nthe rockets ship Monday."))
    assert world.poll().startswith("logged 1, skipped 0, failed 0")
    [tp] = world.touchpoints()
    assert tp["account_id"] == "ACME"
    assert (tp["type"], tp["flow"], tp["rule"], tp["scenario"]) == (
        "email", "Default", "contact", "copy")
    assert tp["occurred_at"] == "2026-11-02T14:30:00Z"
    assert tp["subject"] == "Pricing follow-up"
    assert "the rockets ship Monday." in tp["content"]
    assert tp["creator"] == "sam@ourco.com"
    assert tp["message_id"] == "copy-1@ourco.com"
    roles = {p["email"].lower(): p["role"] for p in tp["participants"]}
    assert roles == {"sam@ourco.com": "internal", "wile@acme.com": "external",
                     "ann@ourco.com": "internal"}
    assert world.folder_contents("INBOX") == {}
    assert len(world.folder_contents("Touchpoints/Logged")) == 1


def test_note_takes_the_customer_from_the_subject(world):
    world.imap.append(make_mail(to="touchpoints@ourco.com", subject="wile@acme.com call notes",
                                body="Talked budgets for Q3."))
    world.poll()
    [tp] = world.touchpoints()
    assert (tp["account_id"], tp["scenario"], tp["rule"]) == ("ACME", "note", "contact")
    assert tp["subject"] == "call notes"
    assert tp["participants"] == []


def test_unknown_customer_fails_no_account_with_keyword(world):
    world.imap.append(make_mail(to="someone@unknown-corp.com", subject="Hello there",
                                message_id="<nobody@ourco.com>"))
    assert "failed 1 (no_account 1)" in world.poll()
    assert world.touchpoints() == []
    [(flags, _raw)] = world.folder_contents("Touchpoints/Failed").values()
    assert "$tl_no_account" in flags
    [failure] = world.failures()
    assert failure["reason"] == "no_account"
    assert failure["sender"] == "sam@ourco.com"
    assert failure["subject"] == "Hello there"
    assert failure["message_id"] == "nobody@ourco.com"
    assert set(failure) == {"uid", "message_id", "date", "sender", "subject", "reason", "detail",
                            "suggestions"}


def test_folders_work_on_a_dot_delimiter_server(imap_dot, tmp_path):
    world = installed(tmp_path, imap_dot)
    imap_dot.append(make_mail(to="wile@acme.com"))
    imap_dot.append(make_mail(to="x@nowhere-known.com"))
    world.poll()
    assert {"Touchpoints.Logged", "Touchpoints.Failed"} <= set(imap_dot.folders())
    assert len(imap_dot.messages("Touchpoints.Logged")) == 1
    assert len(imap_dot.messages("Touchpoints.Failed")) == 1


def test_batches_cover_every_message(world):
    world.write_settings(mailbox={"batch_size": 2})
    for n in range(5):
        world.imap.append(make_mail(to="wile@acme.com", message_id=f"<b{n}@ourco.com>"))
    assert world.poll().startswith("logged 5,")
    assert len(world.touchpoints()) == 5


def test_second_pass_logs_nothing_twice(any_world):
    world = any_world
    raw = make_mail(to="wile@acme.com", message_id="<once@ourco.com>")
    world.imap.append(raw)
    world.poll()
    # The same message delivered again (a second copy in the inbox) is a duplicate.
    world.imap.append(raw)
    assert "skipped 1 (duplicate 1)" in world.poll()
    assert len(world.touchpoints()) == 1
    assert len(world.folder_contents("Touchpoints/Logged")) == 2


def test_crash_between_commit_and_move_only_moves(world):
    from core.settings import load_settings
    from poller.decide.pipeline import decide
    from poller.decide.reading import Context, Source
    from poller.passes.commit import commit
    from store.db import open_database

    raw = make_mail(to="wile@acme.com", message_id="<crash@ourco.com>")
    uid = world.imap.append(raw)
    settings = load_settings(world.config)
    open_database(settings.database_url())
    # The first worker committed, then died before its MOVE.
    source = Source("INBOX", uid, None)
    ctx = Context(settings)
    assert commit(decide(raw, ctx, source)).outcome == "logged"
    # Counted apart: no mail was sent twice, an earlier pass only did not get to move it.
    out = world.poll()
    assert out.startswith("logged 0, skipped 0, failed 0, recovered 1"), out
    [run] = json.loads(world.touchlog("runs", "--format", "json").output)
    assert run["counts"] == {"recovered": 1}
    assert len(world.touchpoints()) == 1
    assert world.folder_contents("INBOX") == {}
    assert len(world.folder_contents("Touchpoints/Logged")) == 1


def test_fetch_does_not_mark_unprocessed_mail_seen(world):
    world.imap.append(make_mail(to="wile@acme.com"))
    world.poll()
    [(flags, _)] = world.folder_contents("Touchpoints/Logged").values()
    assert "\\Seen" not in flags


def test_check_reports_each_part(world):
    out = world.touchlog("check").output
    assert "settings   ok" in out
    assert "imap       ok" in out
    assert ("folders    ok    INBOX ok; Touchpoints/Logged, Touchpoints/Failed will be "
            "created") in out
    assert "database   ok" in out
    assert "smtp       ok" in out  # notices are off in this world


def test_refused_login_is_one_line_and_touches_nothing(world, monkeypatch):
    world.imap.append(make_mail(to="wile@acme.com"))
    monkeypatch.setenv(PASSWORD_ENV, "wrong")
    result = world.touchlog("poll", "--once", expect=1)
    assert len(result.output.strip().splitlines()) == 1
    assert "login refused" in result.output and "127.0.0.1" in result.output
    assert "Traceback" not in result.output and "wrong" not in result.output
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    assert len(world.folder_contents("INBOX")) == 1


def test_unreachable_server_is_one_line_exit_1(world):
    world.write_settings(mailbox={"port": 1})
    result = world.touchlog("poll", "--once", expect=1)
    assert result.output.strip().startswith("touchlog: imap 127.0.0.1:1")
    assert len(result.output.strip().splitlines()) == 1
    out = world.touchlog("check", expect=1).output
    assert "imap       FAIL  imap 127.0.0.1:1: connection refused" in out
    assert "folders    FAIL" in out


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_scheduled_poll_stops_cleanly_on_a_signal(world, stop):
    world.imap.append(make_mail(to="wile@acme.com", message_id="<sched@ourco.com>"))
    proc = world.spawn("poll")
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and world.folder_contents("INBOX"):
            time.sleep(0.2)
        world.imap.append(make_mail(to="beep@road.com", message_id="<sched2@ourco.com>"))
        while time.monotonic() < deadline and world.folder_contents("INBOX"):
            time.sleep(0.2)
    finally:
        proc.send_signal(stop)
        output, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, output
    assert "Traceback" not in output
    assert sorted(tp["account_id"] for tp in world.touchpoints()) == ["ACME", "ROAD"]


def test_two_workers_on_one_mailbox_log_each_message_once(any_world):
    world = any_world
    for n in range(40):
        to = "wile@acme.com" if n % 4 else "nobody@unknown-corp.com"
        world.imap.append(make_mail(to=to, message_id=f"<race-{n}@ourco.com>"))
    workers = [world.spawn("poll", "--once") for _ in range(2)]
    outputs = [w.communicate(timeout=60)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    assert all("Traceback" not in out for out in outputs), outputs
    assert len(world.touchpoints()) == 30
    assert world.folder_contents("INBOX") == {}
    for folder, count in (("Touchpoints/Logged", 30), ("Touchpoints/Failed", 10)):
        raws = [raw for _flags, raw in world.folder_contents(folder).values()]
        ids = [raw.split(b"Message-ID: ")[1].split(b"\n")[0].strip() for raw in raws]
        assert len(ids) == len(set(ids)) == count, (folder, sorted(ids))
    assert all("$tl_no_account" in flags
               for flags, _ in world.folder_contents("Touchpoints/Failed").values())
    # one record per message, every pass that ran finished (a worker that found the mailbox
    # locked did nothing and recorded no run)
    from core.settings import load_settings
    from store.db import open_database
    from store.ledger.models import MessageRecord, Run

    open_database(load_settings(world.config).database_url())
    assert MessageRecord.select().count() == 40
    assert {r.status for r in Run.select()} <= {"done"}
