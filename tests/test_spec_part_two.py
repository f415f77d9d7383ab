"""SPEC part two, read as an outside checker reads it: the names it gives (commands, options,
settings keys and their defaults, JSON fields) exist exactly as written, and the corners of its
rules that the feature tests do not walk hold end to end through Dovecot and the SMTP sink.
Only what no other test covers is here (sending, threads and assign: test_threads_e2e.py;
who may change what: test_manage_cli.py)."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from cli import main
from core.settings import settings_from_dict
from tests.builders import make_mail, write_directory
from tests.world import World

# SPEC 18 (and 10): every option it names, per command.
SPEC_OPTIONS = {
    ("touchpoints",): ["--account", "--type", "--flow", "--notes", "--no-notes", "--since",
                       "--until", "--limit", "--format"],
    ("touchpoints", "add"): ["--account", "--as", "--type", "--date", "--subject", "--content",
                             "--content-file", "--flow", "--reason", "--participant",
                             "--attach"],
    ("touchpoints", "show"): ["--format"],
    ("touchpoints", "edit"): ["--as", "--type", "--date", "--subject", "--content", "--flow",
                              "--reason", "--add-participant", "--remove-participant",
                              "--notify"],
    ("touchpoints", "delete"): ["--as"],
    ("touchpoints", "send"): ["--as", "--to", "--yes"],
    ("accounts",): ["--format"],
    ("failures",): ["--format"],
    ("failures", "show"): ["--format"],
    ("failures", "retry"): ["--all"],
    ("failures", "assign"): ["--account", "--as"],
    ("tasks",): ["--account", "--assignee", "--status", "--format"],
    ("tasks", "add"): ["--account", "--as", "--title", "--description", "--priority", "--due",
                       "--assign", "--flow"],
    ("tasks", "edit"): ["--as"],
    ("tasks", "delete"): ["--as"],
    ("tasks", "done"): ["--as", "--touchpoint"],
    ("keys", "new"): [],
    ("keys", "rotate"): [],
    ("explain",): ["--format"],
    ("poll",): ["--once"],
    ("process",): ["--dry-run"],
    ("check",): [],
    ("sync", "salesforce"): ["--direction", "--full", "--dry-run"],
    ("sync", "status"): ["--format"],
    ("import",): ["--replace", "--dry-run"],
}
SPEC_CHOICES = {
    (("touchpoints", "edit"), "--notify"): ["none", "new", "all"],
    (("touchpoints", "send"), "--to"): ["internal", "external", "me"],
    (("tasks",), "--status"): ["Open", "Completed"],
    (("tasks", "add"), "--priority"): ["High", "Normal", "Low"],
    (("touchpoints",), "--format"): ["table", "json"],
    (("sync", "salesforce"), "--direction"): ["in", "out", "both"],
}


def _command(path: tuple[str, ...]) -> click.Command:
    command: click.Command = main
    for name in path:
        assert isinstance(command, click.Group), path
        found = command.get_command(click.Context(command), name)
        assert found is not None, f"touchlog {' '.join(path)}: no such command"
        command = found
    return command


def _options(command: click.Command) -> dict[str, click.Parameter]:
    return {opt: p for p in command.params for opt in (*p.opts, *p.secondary_opts)}


@pytest.mark.parametrize("path", SPEC_OPTIONS, ids=" ".join)
def test_every_command_and_option_spec_names_exists(path):
    missing = set(SPEC_OPTIONS[path]) - set(_options(_command(path)))
    assert not missing, f"touchlog {' '.join(path)} lacks {sorted(missing)}"


@pytest.mark.parametrize("key", SPEC_CHOICES, ids=lambda k: f"{' '.join(k[0])} {k[1]}")
def test_choices_are_spelled_as_spec_writes_them(key):
    path, option = key
    kind = _options(_command(path))[option].type
    assert isinstance(kind, click.Choice) and list(kind.choices) == SPEC_CHOICES[key]


# SPEC 11, 12, 13, 15, 16, 17, 19: keys and their defaults, as a user with an empty file gets them.
SPEC_DEFAULTS = {
    "trust.authserv_ids": (), "trust.require": "aligned",
    "database.encryption_key_file": "",
    "touchpoints.types": ("web_meeting", "in_person_meeting", "telephone_call", "email",
                          "internal_note"),
    "touchpoints.flows": (), "touchpoints.reasons": (),
    "schedule.idle": True, "schedule.interval_seconds": 60,
    "mailbox.max_attempts": 3, "notify.max_attempts": 5,
    "mailbox.auth": "password", "notify.smtp_auth": "password",
    "salesforce.enabled": False, "salesforce.instance_url": "https://ourco.my.salesforce.com",
    "salesforce.access_token_env": "", "salesforce.username": "",
    "salesforce.password_env": "", "salesforce.security_token_env": "",
    "salesforce.api_version": "62.0", "salesforce.ca_file": "",
    "salesforce.touchpoints_object": "Event", "salesforce.tasks_object": "Task",
    "salesforce.external_id_field": "Touchlog_Id__c", "salesforce.inbound_filter": "",
    "salesforce.create_missing": True, "salesforce.outbound_days": 30,
    "salesforce.interval_seconds": 300,
    **{f"mailbox.oauth2_{k}": "" for k in (
        "token_command", "token_env", "token_file", "provider", "authority", "tenant",
        "client_id", "client_secret_env", "client_secret_file", "service_account_file")},
    **{f"notify.smtp_oauth2_{k}": "" for k in (
        "token_command", "token_env", "token_file", "provider", "authority", "tenant",
        "client_id", "client_secret_env", "client_secret_file", "service_account_file")},
}


@pytest.mark.parametrize("key", SPEC_DEFAULTS)
def test_settings_keys_of_part_two_have_specs_defaults(key, tmp_path):
    section, name = key.split(".")
    value = getattr(getattr(settings_from_dict({}, base_dir=tmp_path), section), name)
    assert value == SPEC_DEFAULTS[key]


def _touchlog(folder, *args: str, expect: int = 0) -> str:
    result = CliRunner().invoke(main, ["--config", str(folder / "settings.toml"), *args])
    assert result.exit_code == expect, (result.output, result.exception)
    return result.output


def test_explain_of_a_touchpoint_no_mail_made_says_where_it_came_from(tmp_path):
    (tmp_path / "settings.toml").write_text('[notify]\nenabled = false\n')
    for kind, path in write_directory(tmp_path).items():
        _touchlog(tmp_path, "import", kind, str(path))
    tp_id = _touchlog(tmp_path, "touchpoints", "add", "--account", "ACME", "--as",
                      "sam@ourco.com", "--type", "telephone_call").strip()
    out = _touchlog(tmp_path, "explain", tp_id)
    assert f"touchpoint {tp_id} on account ACME was added by hand by sam@ourco.com" in out
    found = json.loads(_touchlog(tmp_path, "explain", tp_id, "--format", "json"))
    assert (found["touchpoint_id"], found["account_id"], found["source"]) == (
        int(tp_id), "ACME", "manual")
    assert "no message or touchpoint '999'" in _touchlog(tmp_path, "explain", "999", expect=1)


# --- replies: the corners of SPEC 14's "who may answer" and SPEC 11 for a reply's sender ----------


def test_who_may_answer_a_thread_and_a_reply_is_authenticated_too(world_with_smtp: World):
    world = world_with_smtp
    # a thread with no participants: only the team and ACME's customer users may answer it
    tp_id = int(world.touchlog("touchpoints", "add", "--account", "ACME", "--as",
                               "sam@ourco.com", "--type", "telephone_call", "--subject",
                               "Rockets").output)
    world.touchlog("touchpoints", "send", str(tp_id), "--as", "sam@ourco.com", "--to", "me")
    thread = world.smtp.messages[0].message["Reply-To"]
    world.imap.append(make_mail(sender="wile@acme.com", to=thread, subject="Re: Rockets",
                                message_id="<customer-user@acme.com>"))
    world.imap.append(make_mail(sender="Sam <sam.alias@ourco.com>", to=thread.upper(),
                                subject="Re: Rockets", message_id="<alias@ourco.com>"))
    world.imap.append(make_mail(sender="beep@road.com", to=thread, subject="Re: Rockets",
                                message_id="<other-account@road.com>"))
    world.imap.append(make_mail(sender="wile@acme.com", to=thread, subject="Re: Rockets",
                                message_id="<forged@acme.com>",
                                auth="dmarc=fail header.from=acme.com"))
    # the auto-generated filter comes before trust: an unauthenticated auto-reply is skipped
    world.imap.append(make_mail(sender="wile@acme.com", to=thread, subject="Out of office",
                                headers={"Auto-Submitted": "auto-replied"}, auth=None))
    out = world.poll()
    assert out.startswith("logged 2, skipped 1 (auto_generated 1), failed 2"), out

    logged = {tp["message_id"]: tp for tp in world.touchpoints()}
    for mid, creator in (("customer-user@acme.com", "wile@acme.com"),
                         ("alias@ourco.com", "sam@ourco.com")):
        tp = logged[mid]
        assert (tp["account_id"], tp["scenario"], tp["rule"], tp["thread_id"], tp["creator"],
                tp["source"]) == ("ACME", "reply", "thread", tp_id, creator, "email")
    # SPEC 8 and 11: no notice to an outside address, forged or not (no backscatter); SPEC 20:
    # the member who mailed the copy hears of the reply that may not be logged
    assert [r for m in world.smtp.messages for r in m.rcpt_tos] == ["sam@ourco.com"] * 2
    assert world.smtp.messages[1].message["Subject"] == (
        "touchlog: a reply to a touchpoint you mailed was not logged")
    failures = {f["message_id"]: f for f in world.failures()}
    assert {mid: f["reason"] for mid, f in failures.items()} == {
        "other-account@road.com": "unknown_sender", "forged@acme.com": "unauthenticated_sender"}
    # SPEC 10: the failures JSON fields, and SPEC 7: the failed folder's reason keyword
    assert set(next(iter(failures.values()))) >= {"uid", "message_id", "date", "sender",
                                                 "subject", "reason", "detail"}
    keywords = {flag for flags, _ in world.folder_contents("Touchpoints/Failed").values()
                for flag in flags}
    assert {"$tl_unknown_sender", "$tl_unauthenticated_sender"} <= keywords
    shown = json.loads(world.touchlog("failures", "show", str(failures["forged@acme.com"]["uid"]),
                                      "--format", "json").output)
    [shown] = shown if isinstance(shown, list) else [shown]
    assert (shown["reason"], shown["sender"]) == ("unauthenticated_sender", "wile@acme.com")

    # SPEC 14: the Reply-To names the thread's first touchpoint, whichever of it is sent
    reply = logged["customer-user@acme.com"]
    world.touchlog("touchpoints", "send", str(reply["id"]), "--as", "sam@ourco.com", "--to", "me")
    assert world.smtp.messages[-1].message["Reply-To"] == thread
    # SPEC 13: a failure whose sender is no team member is logged by hand too; the thread's
    # address is the mailbox's (SPEC 1: never a participant), here as everywhere
    world.touchlog("failures", "assign", str(failures["other-account@road.com"]["uid"]),
                   "--account", "ROAD", "--as", "ann@ourco.com")
    [assigned] = world.touchpoints("--account", "ROAD")
    assert (assigned["rule"], assigned["message_id"]) == ("manual", "other-account@road.com")
    assert [p["email"] for p in assigned["participants"]] == ["beep@road.com"]
