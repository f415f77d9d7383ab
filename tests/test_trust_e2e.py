"""Sender authentication end to end (SPEC 11, issue 11): forged mail in a real Dovecot inbox,
`touchlog poll --once`, what is logged, what the failed folder and `check` say, and the notice
the team member finds in their mailbox (a real SMTP server)."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

from tests.builders import TEST_AUTHSERV_ID, make_mail

PHISH = "Urgent: reset your password at http://evil.example/login"
FORGED = (f"{TEST_AUTHSERV_ID}; spf=fail (sender IP is 203.0.113.66) "
          "smtp.mailfrom=mallory@evil.example; dkim=none; dmarc=fail (p=reject) "
          "header.from=ourco.com")


def forged(subject: str = PHISH, to: str = "wile@acme.com", sender: str = "Sam <sam@ourco.com>",
           below: str = "") -> bytes:
    """The issue's forgery: From a team member, sent from evil.example, judged by our server."""
    return make_mail(sender=sender, to=to, subject=subject, auth=None, headers={
        "Return-Path": "<mallory@evil.example>",
        "Received": "from mail.evil.example (mail.evil.example [203.0.113.66])",
        **({"Authentication-Results": below} if below else {}),
        "X-Mailer": "evil"}).replace(b"From: ", f"Authentication-Results: {FORGED}\n"
                                     "From: ".encode(), 1)


def only_notice(world) -> EmailMessage:
    [received] = world.smtp.messages
    assert received.rcpt_tos == ["sam@ourco.com"]
    return received.message


def test_a_forged_team_sender_is_not_logged_and_the_member_is_told_safely(world_with_smtp):
    world = world_with_smtp
    world.imap.append(forged())
    assert "failed 1 (unauthenticated_sender 1)" in world.poll()
    assert world.touchpoints() == []
    [(flags, _)] = world.folder_contents("Touchpoints/Failed").values()
    assert "$tl_unauthenticated_sender" in flags
    [failure] = world.failures()
    assert failure["reason"] == "unauthenticated_sender"
    assert "dmarc=fail header.from=ourco.com" in failure["detail"]
    explained = world.touchlog("explain", failure["message_id"]).output
    assert f"not authenticated; Authentication-Results (topmost first) from: {TEST_AUTHSERV_ID}" \
        in explained and "customer address" not in explained
    notice = only_notice(world)
    # Our own subject: not a word of the attacker's.
    assert notice["Subject"] == "touchlog: a message in your name failed sender authentication"
    assert notice["In-Reply-To"] is None and notice["Auto-Submitted"] == "auto-replied"
    body = notice.get_content()
    assert "> Subject: Urgent: reset your password at hxxp[:]//evil[.]example/login" in body
    assert "> From:    Sam <sam[@]ourco[.]com>" in body  # as claimed, display name too
    assert "unverified" in body and "[trust]" in body
    assert "http://" not in body and "evil.example" not in body


def test_a_failing_note_with_a_customer_in_the_subject_logs_nothing_on_that_account(
        world_with_smtp):
    world = world_with_smtp
    world.imap.append(forged(subject="wile@acme.com call notes", to="touchpoints@ourco.com"))
    assert "unauthenticated_sender 1" in world.poll()
    assert world.touchpoints("--account", "ACME") == []
    assert "wile" not in only_notice(world)["Subject"]


def test_an_injected_pass_below_the_servers_verdict_changes_nothing(world_with_smtp):
    world = world_with_smtp
    world.imap.append(forged(below=f"{TEST_AUTHSERV_ID}; dmarc=pass header.from=ourco.com"))
    assert "failed 1 (unauthenticated_sender 1)" in world.poll()
    assert world.touchpoints() == []


def test_more_than_one_author_is_credited_to_none(world_with_smtp):
    world = world_with_smtp
    two_addresses = make_mail(sender="Sam <sam@ourco.com>, Mallory <mallory@evil.example>",
                              to="wile@acme.com", subject="Two authors")
    two_headers = make_mail(to="wile@acme.com", subject="Two From headers").replace(
        b"From: ", b"From: mallory@evil.example\nFrom: ", 1)
    outsider_sender = make_mail(to="wile@acme.com", subject="Sent by someone else",
                                headers={"Sender": "mallory@evil.example"})
    for raw in (two_addresses, two_headers, outsider_sender):
        world.imap.append(raw)
    assert "failed 3 (unauthenticated_sender 3)" in world.poll()
    assert world.touchpoints() == []
    details = sorted(f["detail"] for f in world.failures())
    assert "names 2 addresses" in details[0] and "2 From headers" in details[2]
    assert "Sender header names mallory@evil.example" in details[1]
    # Each notice goes to the team member whose address was used, never to mallory.
    assert {r for m in world.smtp.messages for r in m.rcpt_tos} == {"sam@ourco.com"}


def test_an_authenticated_forward_is_judged_by_the_forwarder_not_the_forwarded(world):
    inner = make_mail(sender="Wile <wile@acme.com>", to="sam@ourco.com", subject="Rockets",
                      auth=f"{TEST_AUTHSERV_ID}; dmarc=fail header.from=acme.com")
    outer = EmailMessage()
    outer["From"], outer["To"], outer["Subject"] = ("Sam <sam@ourco.com>",
                                                    "touchpoints@ourco.com", "Fwd: Rockets")
    outer["Message-ID"] = "<fwd-trust@ourco.com>"
    outer.set_content("See below.")
    outer.add_attachment(message_from_bytes(inner, policy=policy.default))
    world.imap.append(bytes(outer))  # the test server's DMARC pass for ourco.com on top
    assert world.poll().startswith("logged 1")
    [tp] = world.touchpoints()
    assert (tp["account_id"], tp["scenario"]) == ("ACME", "forward")


def test_without_authserv_ids_check_names_the_ids_and_poll_does_not_start(world):
    world.write_settings(trust={"authserv_ids": []})
    world.imap.append(make_mail(to="wile@acme.com"))
    out = world.touchlog("check", expect=1).output
    assert "no [trust] authserv_ids" in out and f"come from {TEST_AUTHSERV_ID} (1)" in out
    said = world.touchlog("poll", "--once", expect=1).output
    assert f'set authserv_ids = ["{TEST_AUTHSERV_ID}"]' in said  # SPEC 20 (tests/test_install)


def test_a_missing_header_fails_and_check_shows_the_ids_in_use(world):
    world.imap.append(make_mail(to="wile@acme.com", auth=None), authenticate=False)
    assert "failed 1 (unauthenticated_sender 1)" in world.poll()
    assert "carries no Authentication-Results header" in world.failures()[0]["detail"]
    world.imap.append(make_mail(to="wile@acme.com", message_id="<ok@ourco.com>"))
    trust = [line for line in world.touchlog("check").output.splitlines()
             if line.startswith("trust")]
    assert trust == [f"trust      ok    authserv_ids {TEST_AUTHSERV_ID}, require aligned"]


def test_require_none_is_an_opt_out_that_check_warns_about(world):
    world.write_settings(trust={"require": "none"})
    world.imap.append(forged())
    assert world.poll().startswith("logged 1")
    out = world.touchlog("check").output
    assert 'WARNING: require = "none"' in out and "anyone can log as a team member" in out
