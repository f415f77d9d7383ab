"""Failures people can act on (issue 5), end to end through a real Dovecot and a real SMTP
server: the failed folder (`touchlog failures`, `show`, `retry`), notices that wait for the SMTP
server, `touchlog runs`, what `poll --once` prints, exit statuses and `touchlog check`."""

from __future__ import annotations

import base64
import json
import re

from tests.builders import USERS_CSV, make_mail
from tests.world import PASSWORD, PASSWORD_ENV

FAILED = "Touchpoints/Failed"
LOGGED = "Touchpoints/Logged"
SUMMARY = re.compile(r"^logged \d+(?: \([^)]*\))?, skipped \d+(?: \([^)]*\))?, "
                     r"failed \d+(?: \([^)]*\))?(?:, errors \d+)?$")


def runs(world) -> list[dict]:
    """`touchlog runs --format json`, newest first."""
    return json.loads(world.touchlog("runs", "--format", "json").output)


def one_line(result) -> str:
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return lines[0]


def keywords(flags: tuple[str, ...]) -> list[str]:
    return [f for f in flags if f.lower().startswith("$tl_")]


def fail_two(world) -> dict[str, int]:
    """Two failed messages in the failed folder; subject -> UID there."""
    world.imap.append(make_mail(to="jill@unknown-corp.com", subject="Renewal call",
                                message_id="<renewal@ourco.com>"))
    world.imap.append(make_mail(to="touchpoints@ourco.com", subject="x@initech.com",
                                body="Met their CTO.", message_id="<initech@ourco.com>"))
    world.poll()
    return {f["subject"]: f["uid"] for f in world.failures()}


# --- the failed folder -------------------------------------------------------------------------


def test_failures_lists_the_failed_folder_as_json_and_table(world_with_smtp):
    world = world_with_smtp
    uids = fail_two(world)
    rows = {r["subject"]: r for r in world.failures()}
    assert set(rows) == {"Renewal call", "x@initech.com"}
    renewal = rows["Renewal call"]
    assert set(renewal) == {"uid", "message_id", "date", "sender", "subject", "reason", "detail",
                            "suggestions"}
    assert renewal["uid"] == uids["Renewal call"]
    assert renewal["message_id"] == "renewal@ourco.com"
    assert renewal["date"] == "2026-11-02T14:30:00Z"
    assert renewal["sender"] == "sam@ourco.com"
    assert renewal["reason"] == "no_account"
    assert renewal["detail"]
    assert rows["x@initech.com"]["reason"] == "ambiguous_account"
    assert "INITECH" in rows["x@initech.com"]["detail"]

    table = world.touchlog("failures").output
    assert "failed folder" in table
    for word in ("uid", "sender", "reason", "no_account", "ambiguous_account",
                 "sam@ourco.com", "Renewal call", str(uids["Renewal call"])):
        assert word in table, word


def test_failures_is_empty_before_anything_failed(world_with_smtp):
    world = world_with_smtp
    assert world.failures() == []
    assert "failed folder" in world.touchlog("failures").output
    assert "moved 0 message(s)" in world.touchlog("failures", "retry", "--all").output


def test_failures_show_gives_reason_detail_and_trace_in_words(world_with_smtp):
    world = world_with_smtp
    uids = fail_two(world)
    out = world.touchlog("failures", "show", str(uids["x@initech.com"])).output
    assert re.search(r"^reason:\s+ambiguous_account$", out, re.M), out
    assert re.search(rf"^uid:\s+{uids['x@initech.com']}$", out, re.M)
    assert re.search(r"^sender:\s+sam@ourco.com$", out, re.M)
    assert re.search(r"^detail:\s+\S", out, re.M)
    trace = out.split("trace:", 1)[1]
    assert "x@initech.com" in trace
    assert "INITECH" in trace and "INITECH2" in trace
    assert "{" not in trace  # words, not a JSON dump


def test_a_failed_message_without_message_id_keeps_its_detail(world_with_smtp):
    world = world_with_smtp
    raw = make_mail(to="jill@unknown-corp.com", subject="No id here")
    raw = b"".join(line for line in raw.splitlines(keepends=True)
                   if not line.lower().startswith(b"message-id:"))
    world.imap.append(raw)
    assert "failed 1 (no_account 1)" in world.poll()
    [failure] = world.failures()
    assert failure["message_id"] is None
    assert (failure["reason"], failure["subject"]) == ("no_account", "No id here")
    assert "jill@unknown-corp.com" in failure["detail"]
    out = world.touchlog("failures", "show", str(failure["uid"])).output
    assert "trace:" in out and "jill@unknown-corp.com" in out.split("trace:", 1)[1]
    # Retried after the fix, it is logged once like any other.
    world.touchlog("failures", "retry", str(failure["uid"]))
    world.import_directory(users=USERS_CSV + "jill@unknown-corp.com,ROAD,2026-05-01\n")
    assert world.poll().startswith("logged 1, skipped 0, failed 0")
    world.poll()
    assert len(world.touchpoints()) == 1 and world.failures() == []


def test_failures_show_unknown_uid_is_one_line_exit_1(world_with_smtp):
    line = one_line(world_with_smtp.touchlog("failures", "show", "999", expect=1))
    assert "999" in line and FAILED in line


def test_retry_then_fix_the_directory_logs_it_exactly_once(world_with_smtp):
    world = world_with_smtp
    uids = fail_two(world)
    notices_before = len(world.smtp.messages)

    out = world.touchlog("failures", "retry", str(uids["Renewal call"])).output
    assert "moved 1 message(s) back to the inbox" in out
    [(flags, raw)] = world.folder_contents("INBOX").values()
    assert b"Renewal call" in raw
    assert keywords(flags) == []
    assert [f["subject"] for f in world.failures()] == ["x@initech.com"]

    # The admin adds the missing contact, then the next pass logs it.
    world.import_directory(users=USERS_CSV + "jill@unknown-corp.com,ROAD,2026-05-01\n")
    assert world.poll().startswith("logged 1, skipped 0, failed 0")
    [tp] = world.touchpoints()
    assert (tp["account_id"], tp["subject"], tp["message_id"]) == (
        "ROAD", "Renewal call", "renewal@ourco.com")
    assert world.folder_contents("INBOX") == {}
    assert len(world.folder_contents(LOGGED)) == 1
    assert [f["subject"] for f in world.failures()] == ["x@initech.com"]
    assert len(world.smtp.messages) == notices_before  # a success sends nothing
    assert "logged" in world.touchlog("explain", "renewal@ourco.com").output

    # Another pass, and the same mail arriving again, never log it a second time.
    world.poll()
    world.imap.append(make_mail(to="jill@unknown-corp.com", subject="Renewal call",
                                message_id="<renewal@ourco.com>"))
    assert "skipped 1 (duplicate 1)" in world.poll()
    assert len(world.touchpoints()) == 1


def test_retry_all_moves_everything_back_and_what_still_fails_fails_again(world_with_smtp):
    world = world_with_smtp
    fail_two(world)
    out = world.touchlog("failures", "retry", "--all").output
    assert "moved 2 message(s)" in out
    assert world.failures() == []
    inbox = world.folder_contents("INBOX")
    assert len(inbox) == 2 and all(keywords(flags) == [] for flags, _ in inbox.values())

    world.import_directory(users=USERS_CSV + "jill@unknown-corp.com,ROAD,2026-05-01\n")
    assert world.poll().startswith("logged 1, skipped 0, failed 1 (ambiguous_account 1)")
    [failure] = world.failures()
    assert (failure["subject"], failure["reason"]) == ("x@initech.com", "ambiguous_account")
    [(flags, _)] = world.folder_contents(FAILED).values()
    assert keywords(flags) == ["$tl_ambiguous_account"]
    assert [tp["account_id"] for tp in world.touchpoints()] == ["ROAD"]

    # Retried again without a fix, it fails again and its sender is told again.
    notices = len(world.smtp.messages)
    assert "moved 1 message(s)" in world.touchlog("failures", "retry", "--all").output
    assert "failed 1 (ambiguous_account 1)" in world.poll()
    assert len(world.failures()) == 1
    assert len(world.smtp.messages) == notices + 1
    assert len(world.touchpoints()) == 1


def test_retry_unknown_uid_is_one_line_exit_1_and_moves_nothing(world_with_smtp):
    world = world_with_smtp
    uids = fail_two(world)
    line = one_line(world.touchlog("failures", "retry", str(uids["Renewal call"]), "999",
                                   expect=1))
    assert line.startswith("touchlog: ") and "999" in line and FAILED in line
    assert len(world.failures()) == 2
    assert world.folder_contents("INBOX") == {}


def test_retry_needs_uids_or_all_usage_exit_2(world_with_smtp):
    world = world_with_smtp
    assert "give UIDs or --all" in world.touchlog("failures", "retry", expect=2).output
    world.touchlog("failures", "retry", "1", "--all", expect=2)
    # SPEC 20: what is no id names no message: "no such …", exit 1 (not a usage error)
    assert "no message with UID 'one'" in world.touchlog("failures", "retry", "one",
                                                          expect=1).output


# --- notices that wait for the SMTP server -----------------------------------------------------


def test_smtp_down_then_up_delivers_the_notice_exactly_once(world_with_smtp):
    world = world_with_smtp
    sink = world.smtp
    sink.stop()
    world.imap.append(make_mail(to="jill@unknown-corp.com", subject="Renewal call",
                                message_id="<down@ourco.com>"))
    result = world.touchlog("poll", "--once")  # exit 0: the message itself was handled
    assert result.output.startswith("logged 0, skipped 0, failed 1 (no_account 1)")
    assert "notice" in result.output and f"{sink.host}:{sink.port}" in result.output
    assert len(world.folder_contents(FAILED)) == 1 and world.folder_contents("INBOX") == {}
    [run] = runs(world)[:1]
    assert run["status"] == "done"
    assert run["counts"]["notices:pending"] == 1 and run["counts"]["notices:sent"] == 0
    assert any(f"{sink.host}:{sink.port}" in e for e in run["errors"])
    table = world.touchlog("runs").output
    assert "failed 1" in table and str(sink.port) in table

    sink.start()  # same port
    out = world.poll()
    assert out.startswith("logged 0, skipped 0, failed 0")
    assert "error" not in out
    [notice] = sink.messages
    assert notice.rcpt_tos == ["sam@ourco.com"]
    assert notice.message["Subject"] == "Touchpoint not logged: Renewal call"
    assert notice.message["In-Reply-To"] == "<down@ourco.com>"
    assert runs(world)[0]["counts"]["notices:sent"] == 1

    world.poll()
    assert len(sink.messages) == 1
    assert runs(world)[0]["counts"].get("notices:sent", 0) == 0


def test_a_notice_still_waiting_when_its_message_got_logged_is_not_sent(world_with_smtp):
    world = world_with_smtp
    sink = world.smtp
    sink.stop()
    world.imap.append(make_mail(to="jill@unknown-corp.com", subject="Renewal call",
                                message_id="<stale@ourco.com>"))
    world.poll()
    # Meanwhile the admin adds the contact and retries: the message is logged.
    world.import_directory(users=USERS_CSV + "jill@unknown-corp.com,ROAD,2026-05-01\n")
    world.touchlog("failures", "retry", "--all")
    assert world.poll().startswith("logged 1, skipped 0, failed 0")
    sink.start()
    world.poll()
    # "Touchpoint not logged" would now be wrong: the sender is not told so.
    assert sink.messages == []
    # Withdrawn by the pass that logged the message, without trying the server.
    logged_pass = runs(world)[1]
    assert logged_pass["counts"]["notices:withdrawn"] == 1
    assert logged_pass["counts"]["notices:pending"] == 0 and logged_pass["errors"] == []
    world.poll()
    assert sink.messages == []


def test_retried_and_failed_again_while_smtp_is_down_sends_one_notice(world_with_smtp):
    world = world_with_smtp
    sink = world.smtp
    sink.stop()
    world.imap.append(make_mail(to="jill@unknown-corp.com", subject="Renewal call",
                                message_id="<twice@ourco.com>"))
    world.poll()
    world.touchlog("failures", "retry", "--all")
    assert "failed 1 (no_account 1)" in world.poll()
    sink.start()
    world.poll()
    [notice] = sink.messages
    assert notice.message["Subject"] == "Touchpoint not logged: Renewal call"
    world.poll()
    assert len(sink.messages) == 1


def test_check_names_the_smtp_server_up_and_down(world_with_smtp):
    world = world_with_smtp
    sink = world.smtp
    out = world.touchlog("check").output
    assert re.search(rf"^smtp\s+ok\s+.*{re.escape(sink.host)}:{sink.port}", out, re.M), out
    sink.stop()
    result = world.touchlog("check", expect=1)
    [line] = [x for x in result.output.splitlines() if x.startswith("smtp")]
    assert "FAIL" in line and f"{sink.host}:{sink.port}" in line
    assert re.search(r"^imap\s+ok", result.output, re.M)  # the rest is still checked
    assert "Traceback" not in result.output


# --- runs and what poll prints -----------------------------------------------------------------


def test_each_pass_is_a_run_with_times_counts_and_errors(world_with_smtp):
    world = world_with_smtp
    world.imap.append(make_mail(to="wile@acme.com", subject="Pricing"))
    world.imap.append(make_mail(to="jill@unknown-corp.com", subject="Renewal call"))
    world.imap.append(make_mail(to="wile@acme.com", subject="Automatic reply: Pricing",
                                headers={"Auto-Submitted": "auto-replied"}))
    world.poll()
    world.poll()
    newest, first = runs(world)[:2]
    assert first["id"] < newest["id"]
    assert set(first) == {"id", "started_at", "finished_at", "status", "counts", "errors"}
    for run in (first, newest):
        assert run["status"] == "done" and run["errors"] == []
        assert run["started_at"].endswith("Z") and run["finished_at"].endswith("Z")
        assert run["started_at"] <= run["finished_at"]
    counts = first["counts"]
    assert (counts["logged"], counts["skipped"], counts["failed"]) == (1, 1, 1)
    assert counts["failed:no_account"] == 1
    assert counts["skipped:auto_generated"] == 1
    assert counts["notices:sent"] == 1
    assert not any(newest["counts"].get(k) for k in ("logged", "skipped", "failed"))

    table = world.touchlog("runs").output
    assert "runs" in table and "done" in table
    assert "logged 1" in table and "failed 1" in table
    assert len(json.loads(world.touchlog("runs", "--limit", "1", "--format", "json").output)) == 1


def test_refused_login_is_recorded_as_a_run_with_the_error(world_with_smtp, monkeypatch):
    world = world_with_smtp
    world.imap.append(make_mail(to="wile@acme.com"))
    monkeypatch.setenv(PASSWORD_ENV, "wrong")
    line = one_line(world.touchlog("poll", "--once", expect=1))
    assert line.startswith("touchlog: imap ") and "login refused" in line
    [run] = runs(world)
    assert run["status"] == "error"
    assert run["finished_at"] and run["finished_at"].endswith("Z")
    assert len(run["errors"]) == 1 and "login refused" in run["errors"][0]
    assert "wrong" not in json.dumps(run)
    assert "error" in world.touchlog("runs").output

    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    assert world.poll().startswith("logged 1,")
    assert [r["status"] for r in runs(world)] == ["done", "error"]


def test_a_missing_password_is_recorded_as_a_run_and_names_the_variable(world_with_smtp,
                                                                        monkeypatch):
    world = world_with_smtp
    monkeypatch.delenv(PASSWORD_ENV)
    line = one_line(world.touchlog("poll", "--once", expect=1))
    assert PASSWORD_ENV in line
    [run] = runs(world)
    assert run["status"] == "error" and PASSWORD_ENV in run["errors"][0]


def test_a_small_pass_prints_just_the_summary_line(world_with_smtp):
    world = world_with_smtp
    world.imap.append(make_mail(to="wile@acme.com", subject="Pricing"))
    world.imap.append(make_mail(to="jill@unknown-corp.com", subject="Renewal call"))
    world.imap.append(make_mail(to="beep@road.com", subject="Road trip"))
    result = world.touchlog("poll", "--once")
    assert result.output.splitlines() == ["logged 2, skipped 0, failed 1 (no_account 1)"]
    assert SUMMARY.match(result.output.strip())


def test_a_big_pass_off_a_terminal_prints_plain_progress_lines(world_with_smtp):
    world = world_with_smtp
    world.write_settings(mailbox={"batch_size": 500})
    world.imap.seed([make_mail(sender="news@vendor.com", to="sam@ourco.com",
                               subject=f"Newsletter {n}", headers={"Precedence": "bulk"},
                               message_id=f"<news-{n}@vendor.com>") for n in range(1000)])
    result = world.touchlog("poll", "--once")
    lines = result.output.splitlines()
    assert lines[-1] == "logged 0, skipped 1000 (bulk 1000), failed 0"
    progress = lines[:-1]
    assert progress and all(re.fullmatch(r"messages: \d+/1000", line) for line in progress)
    assert progress[-1] == "messages: 1000/1000"
    assert "\x1b" not in result.output  # no terminal control codes in a log


def test_empty_inbox_pass(world_with_smtp):
    world = world_with_smtp
    result = world.touchlog("poll", "--once")
    assert result.output.splitlines() == ["logged 0, skipped 0, failed 0"]


# --- exit statuses -----------------------------------------------------------------------------


def test_a_pass_with_failed_messages_exits_0(world_with_smtp):
    world = world_with_smtp
    world.imap.append(make_mail(sender="newbie@ourco.com", to="wile@acme.com"))
    world.imap.append(make_mail(to="jill@unknown-corp.com"))
    result = world.touchlog("poll", "--once", expect=0)
    assert "failed 2" in result.output


def test_a_config_error_exits_1_with_one_line_naming_the_key(world_with_smtp):
    world = world_with_smtp
    world.write_settings(notify={"max_per_sender_per_hour": "two"})
    for command in (("poll", "--once"), ("failures",), ("runs",), ("failures", "retry", "--all")):
        line = one_line(world.touchlog(*command, expect=1))
        assert "max_per_sender_per_hour" in line, (command, line)


def test_usage_errors_exit_2(world_with_smtp):
    world = world_with_smtp
    world.touchlog("poll", "--twice", expect=2)
    world.touchlog("runs", "--format", "xml", expect=2)
    world.touchlog("failures", "show", expect=2)
    world.touchlog("failures", "--format", "csv", expect=2)


def test_failures_decodes_a_subject_as_the_ledger_does(world_with_smtp):
    """A GB2312-labelled subject holding a GBK character (as mailers write them): `failures`
    reads it from the server's envelope, the ledger from the message; both show the words."""
    world = world_with_smtp
    words = "朱镕基的报价"  # 镕 is in GBK, not in GB2312
    encoded = b"=?gb2312?B?" + base64.b64encode(words.encode("gbk")) + b"?="
    raw = make_mail(to="jill@unknown-corp.com", subject="PLACEHOLDER",
                    message_id="<gb@ourco.com>").replace(b"PLACEHOLDER", encoded)
    world.imap.append(raw)
    assert "failed 1 (no_account 1)" in world.poll()
    [failure] = world.failures()
    assert failure["subject"] == words
    table = world.touchlog("failures").output
    assert words[:3] in table and "=?gb2312?" not in table  # the table wraps CJK per character
    shown = json.loads(world.touchlog("explain", "gb@ourco.com", "--format", "json").output)
    assert shown["subject"] == words
