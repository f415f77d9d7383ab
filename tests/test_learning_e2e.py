"""The review queue that learns (SPEC 22), end to end through a real Dovecot: `failures assign
… --remember` makes the customer addresses contacts of the account, so the next mail from them
resolves by contact; `failures` shows the accounts the rules saw as suggestions, best first."""

from __future__ import annotations

import json

import pytest

from core.errors import TouchlogError
from core.settings import load_settings
from poller.failed.assign import assign as assign_failure
from poller.failed.learn import remembered
from poller.failed.suggest import review_one, review_queue
from store.db import open_database
from store.encryption.keyring import new_key
from store.models import TeamMember
from tests.builders import ACCOUNTS_CSV, USERS_CSV, make_mail

FAILED = "Touchpoints/Failed"
# pat is a contact of two accounts, one of whose last activity is unknown: mail to pat fails
# ambiguous_account, and the account with the known (latest) activity is the better guess,
# though its id sorts last.
PAT = "pat@initech.com,INITECH,\npat@initech.com,INITECH2,2026-03-01\n"


def fail_one(world, **mail) -> dict:
    world.imap.append(make_mail(**mail))
    world.poll()
    [failure] = [f for f in world.failures() if f["message_id"] == mail["message_id"].strip("<>")]
    return failure


def assign(world, failure: dict, account: str, *more: str, expect: int = 0) -> str:
    return world.touchlog("failures", "assign", str(failure["uid"]), "--account", account,
                          "--as", "ann@ourco.com", *more, expect=expect).output


def logged(world, message_id: str) -> dict:
    [tp] = [t for t in world.touchpoints() if t["message_id"] == message_id]
    return tp


def remembered_step(world, tp_id: int) -> dict:
    trace = json.loads(world.touchlog("explain", str(tp_id), "--format", "json").output)["trace"]
    [step] = [s for s in trace["steps"] if s["rule"] == "remembered"]
    return step


def test_remember_makes_the_next_mail_from_the_customer_resolve_by_contact(any_world):
    world = any_world
    failure = fail_one(world, to="Jill <jill@unknown-corp.com>",
                       cc="ann@ourco.com, touchpoints@ourco.com, Sam.S@sales.ourco.com",
                       subject="Renewal call", message_id="<first@ourco.com>")
    assert failure["reason"] == "no_account"
    out = assign(world, failure, "ROAD", "--remember")
    assert "rule manual, chosen by ann@ourco.com" in out
    assert ("remembered by ann@ourco.com at " in out and " on Roadrunner Inc (ROAD): "
            "jill@unknown-corp.com is now its contact (last activity 2026-11-02 14:30)" in out), out
    assert world.failures() == []

    first = logged(world, "first@ourco.com")
    assert (first["account_id"], first["rule"]) == ("ROAD", "manual")
    # The trace names who remembered what; the team, the mailbox and internal domains never.
    step = remembered_step(world, first["id"])
    assert (step["by"], step["account_id"], step["added"], step["known"], step["left_out"]) == (
        "ann@ourco.com", "ROAD", ["jill@unknown-corp.com"], {}, [])
    assert step["last_activity"] == "2026-11-02T14:30:00Z"
    explained = world.touchlog("explain", str(first["id"])).output
    assert "chosen by hand by ann@ourco.com" in explained
    assert "remembered by ann@ourco.com" in explained
    assert "jill@unknown-corp.com is now its contact" in explained

    world.imap.append(make_mail(to="jill@unknown-corp.com", subject="Pricing",
                                message_id="<second@ourco.com>"))
    assert world.poll().startswith("logged 1, skipped 0, failed 0")
    second = logged(world, "second@ourco.com")
    assert (second["account_id"], second["rule"]) == ("ROAD", "contact")
    assert "jill@unknown-corp.com is a contact of 1 account: Roadrunner Inc → rule contact" in \
        world.touchlog("explain", "second@ourco.com").output


def test_without_remember_nothing_is_learnt_and_the_next_mail_fails_again(world):
    failure = fail_one(world, to="jill@unknown-corp.com", subject="Renewal call",
                       message_id="<first@ourco.com>")
    out = assign(world, failure, "ROAD")
    assert "remembered" not in out
    first = logged(world, "first@ourco.com")
    trace = json.loads(world.touchlog("explain", str(first["id"]), "--format", "json").output)
    assert [s["rule"] for s in trace["trace"]["steps"]][-1] == "manual"
    assert "remembered" not in world.touchlog("explain", str(first["id"])).output

    world.imap.append(make_mail(to="jill@unknown-corp.com", subject="Pricing",
                                message_id="<second@ourco.com>"))
    assert "failed 1 (no_account 1)" in world.poll()
    [again] = world.failures()
    assert (again["message_id"], again["reason"]) == ("second@ourco.com", "no_account")


def test_suggestions_best_first_in_table_json_and_show_and_known_contacts_are_left(any_world):
    world = any_world
    world.import_directory(users=USERS_CSV + PAT)
    ambiguous = fail_one(world, to="pat@initech.com", cc="newbie@startup.io",
                         subject="TPS reports", message_id="<tps@ourco.com>")
    nothing = fail_one(world, to="jill@unknown-corp.com", subject="Renewal call",
                       message_id="<renewal@ourco.com>")
    assert ambiguous["reason"] == "ambiguous_account" and nothing["reason"] == "no_account"
    rows = {f["message_id"]: f for f in world.failures()}
    assert rows["tps@ourco.com"]["suggestions"] == [
        {"account_id": "INITECH2", "name": "Initech Labs"},
        {"account_id": "INITECH", "name": "Initech"}]
    assert rows["renewal@ourco.com"]["suggestions"] == []
    table = world.touchlog("failures").output
    assert "suggestions" in table
    [tps_row] = [line for line in table.splitlines() if "TPS reports" in line]
    assert "Initech Labs (INITECH2); Initech (INITECH)" in tps_row
    [renewal_row] = [line for line in table.splitlines() if "Renewal call" in line]
    assert renewal_row.split("│")[-2].strip() == ""

    shown = world.touchlog("failures", "show", str(ambiguous["uid"])).output
    assert "suggestions: Initech Labs (INITECH2); Initech (INITECH)" in shown
    assert "--remember" in shown
    as_json = json.loads(world.touchlog("failures", "show", str(ambiguous["uid"]),
                                        "--format", "json").output)
    assert [s["account_id"] for s in as_json["suggestions"]] == ["INITECH2", "INITECH"]
    assert "none: the rules saw no account" in \
        world.touchlog("failures", "show", str(nothing["uid"])).output

    # pat is already a customer user: left as they are; the newcomer joins the chosen account.
    out = assign(world, ambiguous, "INITECH2", "--remember")
    assert "newbie@startup.io is now its contact" in out
    assert "pat@initech.com was already a customer user (of Initech (INITECH), Initech Labs " \
        "(INITECH2)), left as it was" in out
    step = remembered_step(world, logged(world, "tps@ourco.com")["id"])
    assert (step["added"], step["known"]) == (["newbie@startup.io"],
                                              {"pat@initech.com": ["INITECH", "INITECH2"]})
    world.imap.append(make_mail(to="newbie@startup.io", message_id="<new@ourco.com>"))
    world.imap.append(make_mail(to="pat@initech.com", message_id="<pat@ourco.com>"))
    assert "logged 1, skipped 0, failed 1 (ambiguous_account 1)" in world.poll()
    assert (logged(world, "new@ourco.com")["account_id"], logged(world, "new@ourco.com")["rule"]) \
        == ("INITECH2", "contact")


def test_a_plus_address_follows_plus_addresses(world):
    # reject (the default): mail never looks it up, so it is never learnt.
    failure = fail_one(world, to="jill+renewal@unknown-corp.com", subject="Renewal call",
                       message_id="<plus@ourco.com>")
    assert failure["reason"] == "plus_address"
    out = assign(world, failure, "ROAD", "--remember")
    assert "jill+renewal@unknown-corp.com not remembered: it has a +extension " \
           "(plus_addresses = reject" in out
    step = remembered_step(world, logged(world, "plus@ourco.com")["id"])
    assert (step["added"], step["left_out"]) == (
        [], [{"address": "jill+renewal@unknown-corp.com", "why": "plus_rejected"}])
    world.imap.append(make_mail(to="jill@unknown-corp.com", message_id="<bare@ourco.com>"))
    assert "failed 1 (no_account 1)" in world.poll()
    world.touchlog("failures", "retry", "--all")

    # strip: it is looked up, so learnt, without its extension.
    world.write_settings(touchpoints={"plus_addresses": "strip"})
    assert "failed 1 (no_account 1)" in world.poll()
    [bare] = world.failures()
    out = assign(world, bare, "ROAD", "--remember")
    assert "jill@unknown-corp.com is now its contact" in out
    world.imap.append(make_mail(to="jill+q4@unknown-corp.com", message_id="<strip@ourco.com>"))
    assert world.poll().startswith("logged 1, skipped 0, failed 0")
    tp = logged(world, "strip@ourco.com")
    assert (tp["account_id"], tp["rule"]) == ("ROAD", "contact")


def test_strip_learns_the_address_without_its_extension(world):
    world.write_settings(touchpoints={"plus_addresses": "strip"})
    failure = fail_one(world, to="jill+renewal@unknown-corp.com", subject="Renewal call",
                       message_id="<plus@ourco.com>")
    assert failure["reason"] == "no_account"
    assign(world, failure, "ROAD", "--remember")
    step = remembered_step(world, logged(world, "plus@ourco.com")["id"])
    assert step["added"] == ["jill@unknown-corp.com"]
    world.imap.append(make_mail(to="jill@unknown-corp.com", message_id="<bare@ourco.com>"))
    assert world.poll().startswith("logged 1, skipped 0, failed 0")
    assert logged(world, "bare@ourco.com")["rule"] == "contact"


def test_a_removed_account_is_no_suggestion_and_cannot_be_assigned_to(world):
    world.import_directory(users=USERS_CSV + PAT)
    ambiguous = fail_one(world, to="pat@initech.com", cc="newbie@startup.io",
                         subject="TPS reports", message_id="<tps@ourco.com>")
    without = world.folder / "accounts-without-initech2.csv"
    without.write_text("".join(line + "\n" for line in ACCOUNTS_CSV.splitlines()
                               if not line.startswith("INITECH2,")))
    world.touchlog("import", "accounts", str(without), "--replace")
    [row] = world.failures()
    assert row["suggestions"] == [{"account_id": "INITECH", "name": "Initech"}]

    result = world.touchlog("failures", "assign", str(ambiguous["uid"]), "--account",
                            "INITECH2", "--as", "ann@ourco.com", "--remember", expect=1)
    assert "removed from the directory" in result.output and "Traceback" not in result.output
    assert [f["message_id"] for f in world.failures()] == ["tps@ourco.com"]
    assert world.touchpoints() == []
    assert len(world.folder_contents(FAILED)) == 1
    # newbie was not learnt anywhere: mail to them alone still finds no account.
    world.imap.append(make_mail(to="newbie@startup.io", message_id="<new@ourco.com>"))
    assert "failed 1 (no_account 1)" in world.poll()


def test_the_functions_the_web_calls_refuse_a_removed_account_and_learn(world):
    """`GET /review` and `POST /review/UID/assign` (checkbox `remember`) call these with the
    signed-in member: the same checks and the same learning as the command line."""
    world.import_directory(users=USERS_CSV + PAT)
    fail_one(world, to="pat@initech.com", cc="newbie@startup.io", subject="TPS reports",
             message_id="<tps@ourco.com>")
    settings = load_settings(world.config)
    open_database(settings.database_url())
    [failure] = review_queue(settings)
    assert failure.suggestions == (("INITECH2", "Initech Labs"), ("INITECH", "Initech"))
    assert review_one(settings, failure.uid).suggestions == failure.suggestions
    member = TeamMember.get(TeamMember.email == "ann@ourco.com")

    without = world.folder / "accounts-without-initech.csv"
    without.write_text("".join(line + "\n" for line in ACCOUNTS_CSV.splitlines()
                               if not line.startswith("INITECH,")))
    world.touchlog("import", "accounts", str(without), "--replace")
    open_database(settings.database_url())
    with pytest.raises(TouchlogError, match="removed from the directory"):
        assign_failure(settings, failure.uid, "INITECH", member, remember=True)
    assert world.touchpoints() == [] and len(review_queue(settings)) == 1

    tp_id = assign_failure(settings, failure.uid, "INITECH2", member, remember=True)
    learnt = remembered(tp_id)
    assert learnt is not None and (learnt.by, learnt.account_id, learnt.added) == (
        "ann@ourco.com", "INITECH2", ("newbie@startup.io",))
    assert "newbie@startup.io is now its contact" in learnt.words
    assert review_queue(settings) == []


def test_remember_with_encryption_at_rest_keeps_the_trace_sealed(world):
    world.encrypt(new_key())
    failure = fail_one(world, to="jill@unknown-corp.com", subject="Renewal call",
                       message_id="<sealed@ourco.com>")
    assign(world, failure, "ROAD", "--remember")
    assert "remembered by ann@ourco.com" in world.touchlog("explain", "sealed@ourco.com").output
    on_disk = b"".join(p.read_bytes() for p in world.folder.glob("touchlog.db*"))
    assert b"remembered" not in on_disk  # the trace is sealed like the rest of it
    world.imap.append(make_mail(to="jill@unknown-corp.com", message_id="<next@ourco.com>"))
    assert world.poll().startswith("logged 1, skipped 0, failed 0")
    assert logged(world, "next@ourco.com")["rule"] == "contact"


def test_a_strangers_mail_teaches_nothing(world):
    """SPEC 20: an outsider's (or a forged) mail can be assigned, but who its customers are is
    the stranger's claim: nothing is remembered, and the trace says why."""
    failure = fail_one(world, sender="Mallory <mallory@evil.example>",
                       to="ceo@unknown-corp.com", subject="Invoice",
                       message_id="<stranger@evil.example>")
    assert failure["reason"] == "unknown_sender"
    out = assign(world, failure, "ROAD", "--remember")
    assert "ceo@unknown-corp.com not remembered: the message's sender is no established team " \
           "member" in out
    step = remembered_step(world, logged(world, "stranger@evil.example")["id"])
    assert (step["added"], step["left_out"]) == (
        [], [{"address": "ceo@unknown-corp.com", "why": "unverified_sender"}])
    world.imap.append(make_mail(to="ceo@unknown-corp.com", message_id="<after@ourco.com>"))
    assert "failed 1 (no_account 1)" in world.poll()
