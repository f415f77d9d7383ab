"""The command line without IMAP: process, explain, touchpoints, import, errors, help."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cli import main
from tests.builders import TEST_AUTHSERV_ID, authenticated, make_mail, write_directory

SETTINGS = f"""
[database]
url = "sqlite:///touchlog.db"
[touchpoints]
mailbox_address = "touchpoints@ourco.com"
internal_domains = ["ourco.com"]
[notify]
enabled = false
[trust]
authserv_ids = ["{TEST_AUTHSERV_ID}"]
"""


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    (tmp_path / "settings.toml").write_text(SETTINGS)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TOUCHLOG_CONFIG", raising=False)
    paths = write_directory(tmp_path)
    run = CliRunner()
    for kind in ("team", "accounts", "users"):
        result = run.invoke(main, ["import", kind, str(paths[kind])], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    return tmp_path


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_import_reports_rows(workdir):
    result = invoke("import", "users", str(workdir / "users.csv"))
    assert result.exit_code == 0
    assert "users: 4 rows" in result.output


def test_import_bad_row_names_the_line_and_exits_1(workdir):
    bad = workdir / "bad_users.csv"
    bad.write_text("email,account_id,last_activity\nok@acme.com,ACME,\nx@y.com,NOPE,\n")
    result = CliRunner().invoke(main, ["import", "users", str(bad)])
    assert result.exit_code == 1
    assert "line 3" in result.output
    assert "Traceback" not in result.output


def test_large_import_off_a_terminal_prints_plain_progress_lines(workdir):
    rows = "".join(f"u{i}@cust.com,ACME\n" for i in range(12_000))
    (workdir / "big.csv").write_text("email,account_id\n" + rows)
    result = CliRunner().invoke(main, ["import", "users", str(workdir / "big.csv")])
    assert result.exit_code == 0, result.output
    assert "users: 12000 rows: 12000 added, 0 changed, 0 unchanged" in result.stdout
    lines = result.stderr.splitlines()
    assert 1 <= len(lines) <= 11 and lines[-1] == "import users: 12000/12000", lines
    assert lines.count("import users: 12000/12000") == 1, lines


def test_process_dry_run_prints_decision_and_writes_nothing(workdir):
    eml = workdir / "copy.eml"
    eml.write_bytes(make_mail(to="Wile E. Coyote <wile@acme.com>",
                              message_id="<dry-1@ourco.com>"))
    result = invoke("process", str(eml), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "outcome:  logged (contact)" in result.output
    assert "account:  ACME" in result.output
    assert "wile@acme.com" in result.output
    assert json.loads(invoke("touchpoints", "--format", "json").output) == []


def test_process_dry_run_prints_exactly_what_is_then_stored(workdir):
    eml = workdir / "plan.eml"
    eml.write_bytes(make_mail(to="Wile E. Coyote <wile@acme.com>", cc="ann@ourco.com",
                              message_id="<plan-1@ourco.com>"))
    out = invoke("process", str(eml), "--dry-run").output
    plan = json.loads(out[out.index("would store:\n") + 13:out.index("dry run: nothing")])
    assert "recorded: logged" in invoke("process", str(eml)).output
    [stored] = json.loads(invoke("touchpoints", "--format", "json").output)
    tp = plan["touchpoint"]
    assert (tp["account_id"], tp["creator_email"], tp["occurred_at"]) == (
        stored["account_id"], stored["creator"], stored["occurred_at"])
    for name in ("subject", "content", "participants", "attachments", "message_id",
                 "scenario", "rule", "flow"):
        assert tp[name] == stored[name], name
    assert (plan["record"]["outcome"], plan["record"]["reason"]) == ("logged", "contact")
    assert "notice" not in plan


def test_process_logs_and_explain_tells_why(workdir):
    eml = workdir / "copy.eml"
    eml.write_bytes(make_mail(to="wile@acme.com", message_id="<log-1@ourco.com>"))
    assert "recorded: logged as touchpoint 1" in invoke("process", str(eml)).output
    rows = json.loads(invoke("touchpoints", "--format", "json").output)
    assert [(r["account_id"], r["rule"], r["scenario"], r["creator"]) for r in rows] == [
        ("ACME", "contact", "copy", "sam@ourco.com")]
    assert set(rows[0]) == {"id", "account_id", "type", "flow", "reasons", "occurred_at",
                            "subject", "content", "creator", "participants", "attachments",
                            "message_id", "scenario", "rule", "thread_id", "source",
                            "updated_at", "updated_by", "external_id"}
    assert (rows[0]["source"], rows[0]["updated_at"], rows[0]["external_id"]) == (
        "email", None, None)
    assert rows[0]["occurred_at"] == "2026-11-02T14:30:00Z"
    for key in ("1", "log-1@ourco.com"):
        out = invoke("explain", key).output
        assert "wile@acme.com" in out and "contact" in out, out


OUTLOOK_ID = "AM0PR01MB1234@AM0PR01MB1234.eurprd01.prod.outlook.com"


def test_explain_finds_a_message_id_as_written_and_shows_it_in_json(workdir):
    eml = workdir / "outlook.eml"
    eml.write_bytes(make_mail(to="wile@acme.com", message_id=f"<{OUTLOOK_ID}>"))
    invoke("process", str(eml))
    local, host = OUTLOOK_ID.split("@")
    # Only the host is case-folded in a key (the local part is the sender's own).
    for query in (f"<{OUTLOOK_ID}>", OUTLOOK_ID, f"{local}@{host.lower()}"):
        result = invoke("explain", query)
        assert result.exit_code == 0, (query, result.output)
        assert "contact" in result.output
    assert invoke("explain", OUTLOOK_ID.lower()).exit_code == 1
    found = json.loads(invoke("explain", f" <{OUTLOOK_ID}> ", "--format", "json").output)
    assert found["message_id"] == OUTLOOK_ID
    assert (found["outcome"], found["reason"], found["account_id"]) == ("logged", "contact",
                                                                       "ACME")
    assert found["explanation"][-1] == "decided: Acme Corp (ACME) by rule contact"
    assert found["trace"]["candidates"][0]["address"] == "wile@acme.com"


@pytest.mark.parametrize("content", [bytes(range(256)) * 8, b"\x7fELF\x02\x01\x01\x00" * 64])
def test_process_of_bytes_that_are_no_mail_is_a_parse_error(workdir, content):
    junk = workdir / "junk.bin"
    junk.write_bytes(content)
    result = invoke("process", str(junk))
    assert "outcome:  failed (parse_error)" in result.output
    assert "detail:   not a mail: no header block" in result.output


def test_a_long_chain_of_attached_forwards_is_read_to_the_customer(workdir):
    from poller.mail.message import MAX_DEPTH
    from tests.test_message import forward_chain

    bottom = make_mail(sender="wile@acme.com", to="sam@ourco.com", subject="Rockets")
    for levels, outcome in ((7, "logged (contact)"), (MAX_DEPTH + 1, "failed")):
        eml = workdir / f"chain{levels}.eml"
        eml.write_bytes(authenticated(
            forward_chain(levels, bottom).replace(b"a@b.com", b"sam@ourco.com")))
        out = invoke("process", str(eml), "--dry-run").output
        assert f"outcome:  {outcome}" in out, out
    assert f"not read whole: forwards nested more than {MAX_DEPTH} deep not read" in out


def test_a_huge_subject_is_cut_with_the_contents_marker(workdir):
    subject = "Rockets " * 125_000  # a 1 MB subject line
    eml = workdir / "huge.eml"
    eml.write_bytes(authenticated(
        b"From: sam@ourco.com\r\nTo: wile@acme.com\r\nMessage-ID: <huge@ourco.com>\r\n"
        b"Subject: " + subject.encode() + b"\r\n\r\nSee subject.\r\n"))
    invoke("process", str(eml))
    [tp] = json.loads(invoke("touchpoints", "--format", "json").output)
    kept = " ".join(subject.split())[:1000]
    assert tp["subject"] == f"{kept} [… cut by touchlog: {len(subject.strip()) - 1000} more " \
                            "characters not stored]"


def after_mail(workdir):
    path = workdir / "after.eml"
    path.write_bytes(make_mail(to="wile@acme.com", message_id="<after@ourco.com>"))
    return path


def test_import_replace_forgets_who_left_and_keeps_their_history(workdir):
    eml = workdir / "before.eml"
    eml.write_bytes(make_mail(to="wile@acme.com", message_id="<before@ourco.com>"))
    invoke("process", str(eml))
    (workdir / "a2.csv").write_text("account_id,name\nROAD,Roadrunner Inc\n")
    dry = invoke("import", "accounts", str(workdir / "a2.csv"), "--replace", "--dry-run")
    assert dry.output.splitlines()[-1] == "dry run: nothing was written"
    assert "  removed: ACME, GLOBEX, GLOBEX-EU, INITECH, INITECH2" in dry.output
    assert len(json.loads(invoke("touchpoints", "--format", "json").output)) == 1
    assert "failed" not in invoke("process", str(after_mail(workdir)), "--dry-run").output
    done = invoke("import", "accounts", str(workdir / "a2.csv"), "--replace")
    assert done.output.startswith("accounts: 1 rows: 0 added, 0 changed, 1 unchanged, "
                                  "5 removed\n")
    [kept] = json.loads(invoke("touchpoints", "--account", "ACME", "--format", "json").output)
    assert (kept["creator"], kept["message_id"]) == ("sam@ourco.com", "before@ourco.com")
    assert "outcome:  failed (no_account)" in invoke("process", str(after_mail(workdir)),
                                                     "--dry-run").output
    (workdir / "t2.csv").write_text("email,name\nann@ourco.com,Ann Admin\n")
    result = invoke("import", "team", str(workdir / "t2.csv"), "--replace")
    assert "  removed: sam@ourco.com" in result.output
    alias = workdir / "alias.eml"
    alias.write_bytes(make_mail(sender="sam.alias@ourco.com", to="beep@road.com"))
    assert "outcome:  failed (unknown_sender)" in invoke("process", str(alias)).output
    [kept] = json.loads(invoke("touchpoints", "--account", "ACME", "--format", "json").output)
    assert kept["creator"] == "sam@ourco.com"
    # Reading a removed account's history works; adding to it does not.
    added = CliRunner().invoke(main, ["touchpoints", "add", "--account", "ACME", "--as",
                                      "ann@ourco.com", "--type", "internal_note",
                                      "--content", "too late"])
    assert added.exit_code == 1
    assert "account 'ACME' was removed from the directory on" in added.output


def test_accounts_leaves_out_accounts_removed_by_replace_and_keeps_their_history(workdir):
    eml = workdir / "acme.eml"
    eml.write_bytes(make_mail(to="wile@acme.com", message_id="<acme-1@ourco.com>"))
    assert invoke("process", str(eml)).exit_code == 0
    (workdir / "a2.csv").write_text("account_id,name\nROAD,Roadrunner Inc\n")
    assert invoke("import", "accounts", str(workdir / "a2.csv"), "--replace").exit_code == 0
    listed = json.loads(invoke("accounts", "--format", "json").output)
    assert [row["account_id"] for row in listed] == ["ROAD"]
    assert "ACME" not in invoke("accounts").output
    [kept] = json.loads(invoke("touchpoints", "--account", "ACME", "--format", "json").output)
    assert kept["message_id"] == "acme-1@ourco.com"


def test_import_warns_of_rows_that_can_never_match(workdir):
    (workdir / "u.csv").write_text("email,account_id\nwile+promo@acme.com,ACME\n")
    result = CliRunner().invoke(main, ["import", "users", str(workdir / "u.csv")])
    assert result.exit_code == 0
    assert ("warning: u.csv line 2: wile+promo@acme.com has a +extension and can never match"
            in result.stderr)


def test_import_help_shows_the_columns():
    out = invoke("import", "--help").output
    assert "SPEC" not in out
    for columns in ("account_id,name,[parent_id],[email_domains],[default_bcc],",
                    "email,account_id,[last_activity]", "email,[name],[role],[aliases]"):
        assert columns in out


def test_process_twice_logs_once(workdir):
    eml = workdir / "copy.eml"
    eml.write_bytes(make_mail(to="wile@acme.com", message_id="<twice@ourco.com>"))
    invoke("process", str(eml))
    assert "skipped (duplicate)" in invoke("process", str(eml)).output
    assert len(json.loads(invoke("touchpoints", "--format", "json").output)) == 1


def test_touchpoints_filters_by_account_and_limit(workdir):
    for n, to in enumerate(["wile@acme.com", "beep@road.com", "wile@acme.com"]):
        eml = workdir / f"m{n}.eml"
        eml.write_bytes(make_mail(to=to, message_id=f"<tp-{n}@ourco.com>"))
        invoke("process", str(eml))
    acme = json.loads(invoke("touchpoints", "--account", "ACME", "--format", "json").output)
    assert [r["account_id"] for r in acme] == ["ACME", "ACME"]
    assert len(json.loads(invoke("touchpoints", "--limit", "1", "--format", "json").output)) == 1


def test_an_unknown_account_is_an_error_naming_it(workdir):
    result = CliRunner().invoke(main, ["touchpoints", "--account", "acme"])
    assert result.exit_code == 1
    assert result.output == "touchlog: no account 'acme' in the directory (did you mean ACME?)\n"
    result = CliRunner().invoke(main, ["touchpoints", "--account", "NOPE"])
    assert (result.exit_code, result.output) == (
        1, "touchlog: no account 'NOPE' in the directory\n")


def test_wrong_setting_is_one_line_exit_1(tmp_path):
    (tmp_path / "s.toml").write_text("[mailbox]\nport = 'x'\n")
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "s.toml"), "touchpoints"])
    assert result.exit_code == 1
    assert result.output.strip() == f"touchlog: {tmp_path / 's.toml'}: mailbox.port must be " \
                                    "a whole number, not 'x'"


@pytest.mark.parametrize("command", [["check"], ["poll", "--once"], ["failures"]])
def test_a_missing_ca_file_is_one_line_naming_key_and_file(tmp_path, command):
    (tmp_path / "s.toml").write_text('[mailbox]\nca_file = "/nonexistent.pem"\n')
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "s.toml"), *command])
    assert result.exit_code == 1
    assert "mailbox.ca_file: /nonexistent.pem not found" in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


def test_usage_error_exits_2(workdir):
    assert CliRunner().invoke(main, ["failures", "retry"]).exit_code == 2


@pytest.mark.parametrize("command", ["poll", "process", "explain", "touchpoints", "failures",
                                     "import", "check", "runs"])
def test_every_command_has_help(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert len(result.output.splitlines()) > 3


def test_the_timeline_is_read_in_one_query(workdir, caplog):
    import logging

    from store.db import open_database
    from store.timeline.touchpoints import as_json, timeline

    for n in range(3):
        eml = workdir / f"q{n}.eml"
        eml.write_bytes(make_mail(to="wile@acme.com", message_id=f"<q-{n}@ourco.com>"))
        invoke("process", str(eml))
    open_database(f"sqlite:///{workdir / 'touchlog.db'}")
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        rows = [as_json(tp) for tp in timeline()]
    assert [r["creator"] for r in rows] == ["sam@ourco.com"] * 3
    assert len([r for r in caplog.records if r.name == "peewee"]) == 1


# --- SPEC 20: identifiers from the command line ------------------------------------------------

NOT_IDS = ["99999999999999999999", "9223372036854775808", "0", "007", "²", "٣", "+7", " 7",
           "1_000", "7.0", "1e3", "abc", ""]
ID_COMMANDS = [
    (["touchpoints", "show"], [], "no touchpoint"),
    (["touchpoints", "edit"], ["--as", "sam@ourco.com", "--subject", "x"], "no touchpoint"),
    (["touchpoints", "delete"], ["--as", "sam@ourco.com"], "no touchpoint"),
    (["touchpoints", "send"], ["--as", "sam@ourco.com", "--to", "me"], "no touchpoint"),
    (["tasks", "edit"], ["--as", "sam@ourco.com", "--title", "x"], "no task"),
    (["tasks", "delete"], ["--as", "sam@ourco.com"], "no task"),
    (["tasks", "done"], ["--as", "sam@ourco.com"], "no task"),
    (["failures", "show"], [], "no message with UID"),
    (["failures", "retry"], [], "no message with UID"),
    (["failures", "assign"], ["--account", "ACME", "--as", "sam@ourco.com"],
     "no message with UID"),
]


@pytest.mark.parametrize(("command", "rest", "says"), ID_COMMANDS, ids=lambda v: " ".join(v)
                         if isinstance(v, list) else None)
def test_an_id_that_is_no_plain_number_names_nothing(workdir, command, rest, says):
    for value in NOT_IDS:
        result = CliRunner().invoke(main, [*command, value, *rest])
        assert result.exit_code == 1, (value, result.output, result.exception)
        assert result.output.startswith(f"touchlog: {says} {value!r}"), (value, result.output)
        assert len(result.output.strip().splitlines()) == 1, result.output


def test_the_largest_id_is_looked_up_and_not_found(workdir):
    largest = str(2**63 - 1)
    for command, says in ((["touchpoints", "show"], f"no touchpoint {largest}"),
                          (["tasks", "delete", largest, "--as", "sam@ourco.com"],
                           f"no task {largest}")):
        result = invoke(*command, *([] if largest in command else [largest]))
        assert (result.exit_code, result.output.strip()) == (1, f"touchlog: {says}")


def test_failures_of_a_uid_the_folder_cannot_hold_say_no_such_message(world):
    largest = str(2**63 - 1)
    for args in (["show", largest], ["retry", largest],
                 ["assign", largest, "--account", "ACME", "--as", "sam@ourco.com"]):
        result = world.touchlog("failures", *args, expect=1)
        assert f"no message with UID {largest}" in result.output, (args, result.output)
        assert "Traceback" not in result.output


def test_explain_takes_a_key_made_of_digits_and_a_number_too_large_is_no_message(workdir):
    eml = workdir / "digits.eml"
    eml.write_bytes(make_mail(to="wile@acme.com", message_id="<99999999999999999999>"))
    invoke("process", str(eml))
    found = invoke("explain", "99999999999999999999")
    assert found.exit_code == 0 and "contact" in found.output, found.output
    for value in ("99999999999999999998", "²", "0"):
        result = invoke("explain", value)
        assert (result.exit_code, result.output.strip()) == (
            1, f"touchlog: no message or touchpoint {value!r} in the database")


def test_a_limit_too_large_for_the_database_is_a_usage_error(workdir):
    for command in ("touchpoints", "runs"):
        result = CliRunner().invoke(main, [command, "--limit", "99999999999999999999"])
        assert result.exit_code == 2 and "--limit" in result.output, result.output


# --- SPEC 20 bullet 19: what the user sees ------------------------------------------------------


def test_message_id_is_shown_as_the_mail_wrote_it_and_threads_still_match(workdir):
    first = workdir / "first.eml"
    first.write_bytes(make_mail(to="wile@acme.com", message_id=f"<{OUTLOOK_ID}>"))
    invoke("process", str(first))
    local, host = OUTLOOK_ID.split("@")
    reply = workdir / "reply.eml"
    reply.write_bytes(make_mail(to="wile@acme.com", message_id="<reply@ourco.com>",
                                headers={"In-Reply-To": f"<{local}@{host.lower()}>",
                                         "References": f"<{local}@{host.lower()}>"}))
    invoke("process", str(reply))
    rows = {r["message_id"]: r for r in json.loads(invoke("touchpoints", "--format",
                                                          "json").output)}
    assert set(rows) == {OUTLOOK_ID, "reply@ourco.com"}
    assert rows["reply@ourco.com"]["thread_id"] == rows[OUTLOOK_ID]["id"]
    shown = json.loads(invoke("touchpoints", "show", str(rows[OUTLOOK_ID]["id"]), "--format",
                              "json").output)
    assert shown["message_id"] == OUTLOOK_ID
    assert f"Message-ID {OUTLOOK_ID}," in invoke("touchpoints", "show",
                                                 str(shown["id"])).output


def test_touchpoints_show_json_is_one_object(workdir):
    tp_id = invoke("touchpoints", "add", "--account", "ACME", "--as", "sam@ourco.com",
                   "--type", "email", "--subject", "Call").output.strip()
    shown = json.loads(invoke("touchpoints", "show", tp_id, "--format", "json").output)
    assert isinstance(shown, dict) and (shown["id"], shown["subject"]) == (int(tp_id), "Call")


def test_config_works_after_the_command_too(workdir, tmp_path_factory, monkeypatch):
    from tests.test_commands_documented import COMMANDS

    for path in COMMANDS:
        assert "--config" in {o for p in _command(path).params for o in p.opts}, path
    config = str(workdir / "settings.toml")
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    assert "ACME" in CliRunner().invoke(main, ["accounts", "--config", config]).output
    tp_id = CliRunner().invoke(main, ["touchpoints", "add", "--account", "ACME", "--as",
                                      "sam@ourco.com", "--type", "email", "--config",
                                      config]).output.strip()
    shown = CliRunner().invoke(main, ["touchpoints", "show", tp_id, "--format", "json",
                                      "--config", config])
    assert json.loads(shown.output)["id"] == int(tp_id)
    missing = CliRunner().invoke(main, ["poll", "--once", "--config", "/nowhere/x.toml"])
    assert (missing.exit_code, missing.output.strip()) == (
        1, "touchlog: /nowhere/x.toml: settings file not found (use --config or "
           "TOUCHLOG_CONFIG)")


def _command(path: tuple[str, ...]):
    import click

    command = main
    for name in path:
        command = command.get_command(click.Context(command), name)
    return command


def test_tasks_add_names_assign_when_its_address_is_no_team_member(workdir):
    result = invoke("tasks", "add", "--account", "ACME", "--as", "sam@ourco.com", "--title",
                    "Quote", "--assign", "nobody@ourco.com")
    assert (result.exit_code, result.output.strip()) == (
        1, "touchlog: --assign nobody@ourco.com: not a team member (touchlog import team "
           "adds one)")
