"""SPEC 20 on the mail side, end to end (Dovecot, the SMTP sink, the `touchlog` commands): the
roles a stranger's mail gets, thread addresses whose ID is no id, who may post in a thread and
who is told when someone may not, and assigning mail whose sender was never established."""

from __future__ import annotations

import json
from email.message import EmailMessage

import pytest

from tests.builders import TEAM_CSV, make_mail
from tests.world import World


def _show(world: World, tp_id: int) -> dict:
    return json.loads(world.touchlog("touchpoints", "show", str(tp_id), "--format",
                                     "json").output)


def _roles(tp: dict) -> dict[str, str]:
    return {p["email"]: p["role"] for p in tp["participants"]}


def _thread(world: World) -> tuple[dict, EmailMessage]:
    """Sam's mail to Wile (Pat of a partner in Cc) logged, and its copy mailed to them: the
    touchpoint and the copy, whose Reply-To is the thread's address."""
    world.imap.append(make_mail(to="Wile E. Coyote <wile@acme.com>",
                                cc="pat@partner.example", subject="Rockets",
                                message_id="<rockets-1@ourco.com>"))
    assert world.poll().startswith("logged 1,")
    [first] = world.touchpoints()
    world.touchlog("touchpoints", "send", str(first["id"]), "--as", "sam@ourco.com", "--to",
                   "external", "--yes")
    return first, world.smtp.messages[-1].message


def _by_message_id(world: World) -> dict[str, dict]:
    return {tp["message_id"]: tp for tp in world.touchpoints()}


def test_a_customers_reply_makes_nobody_at_their_domain_internal(world_with_smtp):
    world = world_with_smtp
    first, copy = _thread(world)
    world.imap.append(make_mail(sender="Wile E. Coyote <wile@acme.com>", to=copy["Reply-To"],
                                cc="road@acme.com", subject="Re: Rockets",
                                message_id="<wile-re@acme.com>",
                                headers={"In-Reply-To": copy["Message-ID"]}))
    assert world.poll().startswith("logged 1,")
    reply = _by_message_id(world)["wile-re@acme.com"]
    assert reply["thread_id"] == first["id"]
    assert _roles(reply) == {"wile@acme.com": "external", "road@acme.com": "external"}
    mailed = len(world.smtp.messages)
    # the internal copy (account, last touch, touch count) reaches nobody outside
    out = world.touchlog("touchpoints", "send", str(reply["id"]), "--as", "sam@ourco.com",
                         "--to", "internal", expect=1).output
    assert "no internal participants" in out and len(world.smtp.messages) == mailed
    world.touchlog("touchpoints", "edit", str(reply["id"]), "--as", "ann@ourco.com",
                   "--subject", "Re: Rockets (Tuesday)", "--notify", "all", "--yes")
    [external] = world.smtp.messages[mailed:]
    assert sorted(external.rcpt_tos) == ["road@acme.com", "wile@acme.com"]
    assert not external.message.get_content().startswith("Account:")


def test_an_internal_copy_goes_only_to_who_is_internal_today(world_with_smtp):
    """Roles are decided when a copy is sent: a member who left the team (here one at an
    outside domain) gets no internal copy, whatever the touchpoint stored."""
    world = world_with_smtp
    world.import_directory(team=TEAM_CSV + "kim@partner.example,Kim Contractor,user,\n")
    tp_id = world.touchlog("touchpoints", "add", "--account", "ACME", "--as", "sam@ourco.com",
                           "--type", "web_meeting", "--subject", "Demo", "--participant",
                           "kim@partner.example", "--participant", "ann@ourco.com",
                           "--participant", "wile@acme.com").output.strip()
    assert _roles(_show(world, int(tp_id)))["kim@partner.example"] == "internal"
    (world.folder / "team.csv").write_text(TEAM_CSV)
    world.touchlog("import", "team", str(world.folder / "team.csv"), "--replace")
    world.touchlog("touchpoints", "send", tp_id, "--as", "sam@ourco.com", "--to", "internal",
                   "--to", "external", "--yes")
    internal, external = world.smtp.messages
    assert internal.rcpt_tos == ["ann@ourco.com"]
    assert internal.message.get_content().startswith("Account: Acme Corp (ACME)")
    assert sorted(external.rcpt_tos) == ["kim@partner.example", "wile@acme.com"]
    assert not external.message.get_content().startswith("Account:")


@pytest.mark.parametrize("local", [
    "touchpoints+tp99999999999999999999999.x",  # past 2^63 - 1
    "touchpoints+tp9223372036854775808.x",  # 2^63
    "touchpoints+tp0.x", "touchpoints+tp007.x", "touchpoints+tp-1.x", "touchpoints+tpabc.x",
    "touchpoints+tp",
])
def test_a_thread_address_whose_id_is_no_id_fails_unknown_thread_at_once(world_with_smtp,
                                                                          local):
    world = world_with_smtp
    world.imap.append(make_mail(sender="sam@ourco.com", to=f"{local}@ourco.com",
                                subject="Re: Rockets", message_id="<odd@ourco.com>"))
    out = world.poll()
    assert out.startswith("logged 0, skipped 0, failed 1 (unknown_thread 1)"), out
    assert "error" not in out
    [failure] = world.failures()
    assert failure["reason"] == "unknown_thread" and "thread" in failure["detail"]
    [notice] = world.smtp.messages  # to the team member who sent it, about their own mail
    assert notice.rcpt_tos == ["sam@ourco.com"]


def test_a_thread_id_in_other_digits_is_no_id(world_with_smtp):
    """Superscript and Arabic-Indic digits are digits to Python's int(), never to touchlog."""
    world = world_with_smtp
    for n, digits in enumerate(("²", "٣", "１")):
        raw = (f"From: sam@ourco.com\r\nTo: touchpoints+tp{digits}.x@ourco.com\r\n"
               f"Subject: Re: Rockets\r\nMessage-ID: <digits-{n}@ourco.com>\r\n"
               "Date: Mon, 02 Nov 2026 14:30:00 +0000\r\nMIME-Version: 1.0\r\n"
               "Content-Type: text/plain; charset=utf-8\r\n\r\nHi\r\n").encode()
        world.imap.append(raw)
    assert world.poll().startswith("logged 0, skipped 0, failed 3 (unknown_thread 3)")


def test_a_reply_from_someone_who_may_not_post_tells_the_member_who_mailed_the_copy(
        world_with_smtp):
    world = world_with_smtp
    first, copy = _thread(world)
    mailed = len(world.smtp.messages)
    world.imap.append(make_mail(
        sender="Wile at home <wile.coyote@gmail.com>", to=copy["Reply-To"],
        subject="Re: Rockets - pay at http://evil.example/pay", message_id="<home@gmail.com>",
        headers={"In-Reply-To": copy["Message-ID"]}))
    assert "unknown_sender 1" in world.poll()
    [notice] = world.smtp.messages[mailed:]
    assert notice.rcpt_tos == ["sam@ourco.com"]  # never the outsider
    msg = notice.message
    assert msg["Subject"] == "touchlog: a reply to a touchpoint you mailed was not logged"
    assert msg["In-Reply-To"] is None and msg["References"] is None
    body = msg.get_content()
    assert "wile[.]coyote[@]gmail[.]com" in body and "hxxp[:]//evil[.]example/pay" in body
    assert "http://evil.example" not in body and "wile.coyote@gmail.com" not in body
    assert f"touchpoint {first['id']} (account ACME)" in body
    # assigned by hand, it joins the thread rather than standing apart
    [failure] = world.failures()
    out = world.touchlog("failures", "assign", str(failure["uid"]), "--account", "ACME",
                         "--as", "sam@ourco.com").output
    assert f"a reply in thread {first['id']}, rule thread" in out
    reply = _by_message_id(world)["home@gmail.com"]
    assert (reply["scenario"], reply["rule"], reply["thread_id"], reply["creator"]) == (
        "reply", "thread", first["id"], "sam@ourco.com")
    assert _show(world, reply["id"])["parent_id"] == first["id"]
    assert _roles(reply) == {"wile.coyote@gmail.com": "external"}
    explained = world.touchlog("explain", str(reply["id"])).output
    assert "wile.coyote@gmail.com is unverified" in explained
    assert "chosen by hand by sam@ourco.com" in explained


def test_only_the_team_puts_people_in_a_thread(world_with_smtp):
    """A participant the team added may post; an address only a customer's Cc added may not
    (nor may it post for ever after)."""
    world = world_with_smtp
    first, copy = _thread(world)
    thread = copy["Reply-To"]
    world.imap.append(make_mail(sender="wile@acme.com", to=thread, cc="eve@elsewhere.example",
                                subject="Re: Rockets", message_id="<wile-cc@acme.com>"))
    assert world.poll().startswith("logged 1,")
    world.imap.append(make_mail(sender="eve@elsewhere.example", to=thread,
                                subject="Re: Re: Rockets", message_id="<eve@elsewhere.example>"))
    world.imap.append(make_mail(sender="pat@partner.example", to=thread,
                                subject="Re: Rockets", message_id="<pat@partner.example>"))
    out = world.poll()
    assert out.startswith("logged 1, skipped 0, failed 1 (unknown_sender 1)"), out
    assert "pat@partner.example" in _by_message_id(world)
    [failure] = world.failures()
    assert failure["sender"] == "eve@elsewhere.example"
    assert "no participant of thread" in failure["detail"]


def test_a_reply_to_a_thread_whose_account_was_removed_is_unknown_thread(world_with_smtp):
    world = world_with_smtp
    _, copy = _thread(world)
    (world.folder / "accounts.csv").write_text("account_id,name\nROAD,Roadrunner Inc\n")
    world.touchlog("import", "accounts", str(world.folder / "accounts.csv"), "--replace")
    world.imap.append(make_mail(sender="wile@acme.com", to=copy["Reply-To"],
                                subject="Re: Rockets", message_id="<late@acme.com>"))
    assert "unknown_thread 1" in world.poll()
    [failure] = world.failures()
    assert "no longer exists: its account ACME was removed" in failure["detail"]
    assert "late@acme.com" not in _by_message_id(world)


def test_assigning_an_outsiders_mail_makes_nobody_internal_and_credits_the_assigner(world):
    world.imap.append(make_mail(sender="Mallory <mallory@acme.com>", to="touchpoints@ourco.com",
                                cc="boss@acme.com", subject="Please log this",
                                message_id="<m1@acme.com>"))
    assert "unknown_sender 1" in world.poll()
    [failure] = world.failures()
    world.touchlog("failures", "assign", str(failure["uid"]), "--account", "ACME", "--as",
                   "ann@ourco.com")
    [tp] = world.touchpoints()
    assert tp["creator"] == "ann@ourco.com"
    assert _roles(tp) == {"mallory@acme.com": "external", "boss@acme.com": "external"}
    explained = world.touchlog("explain", str(tp["id"])).output
    assert "its sender mallory@acme.com is unverified" in explained
    trace = json.loads(world.touchlog("explain", str(tp["id"]), "--format", "json").output)
    manual = trace["trace"]["steps"][-1]
    assert (manual["claimed_sender"], manual["sender_verified"]) == ("mallory@acme.com", False)


def test_assigning_a_forged_mail_credits_whoever_assigns_it(world):
    world.imap.append(make_mail(to="wile@acme.com", subject="Wire the money",
                                message_id="<forged@ourco.com>",
                                auth="dmarc=fail header.from=ourco.com"))
    assert "unauthenticated_sender 1" in world.poll()
    [failure] = world.failures()
    world.touchlog("failures", "assign", str(failure["uid"]), "--account", "ACME", "--as",
                   "ann@ourco.com")
    [tp] = world.touchpoints()
    assert tp["creator"] == "ann@ourco.com"  # never sam, whose address was used
    explained = world.touchlog("explain", str(tp["id"])).output
    assert "its sender sam@ourco.com is unverified" in explained
    # and sam cannot edit what he never sent
    world.touchlog("touchpoints", "edit", str(tp["id"]), "--as", "sam@ourco.com", "--subject",
                   "mine", expect=1)


def test_a_customers_reply_names_its_contact_in_salesforce(world_with_smtp, fake_sf,
                                                           monkeypatch):
    """The reply's people are external now, so its Event's WhoId is the Contact whose Email
    is one of them (the fake Salesforce, as `sync salesforce` talks to it)."""
    from tests.sf_world import TOKEN_ENV

    world = world_with_smtp
    monkeypatch.setenv(TOKEN_ENV, fake_sf.token)
    acme_sf = fake_sf.add_account("Acme Corp")
    wile_sf = fake_sf.add_contact("wile@acme.com", acme_sf)
    fake_sf.add_user("sam@ourco.com", "Sam Seller")
    (world.folder / "linked.csv").write_text(
        f"account_id,name,salesforce_id\nACME,Acme Corp,{acme_sf.lower()}\n")
    world.touchlog("import", "accounts", str(world.folder / "linked.csv"))
    world.write_settings(salesforce={"enabled": True, "instance_url": fake_sf.url,
                                     "access_token_env": TOKEN_ENV, "ca_file": fake_sf.ca_file})
    _, copy = _thread(world)
    world.imap.append(make_mail(sender="wile@acme.com", to=copy["Reply-To"],
                                cc="road@acme.com", subject="Re: Rockets",
                                message_id="<wile-sf@acme.com>"))
    assert world.poll().startswith("logged 1,")
    reply = _by_message_id(world)["wile-sf@acme.com"]
    world.touchlog("sync", "salesforce", "--direction", "out")
    events = {e["Touchlog_Id__c"]: e for e in fake_sf.records("Event")}
    assert events[str(reply["id"])]["WhoId"] == wile_sf
