"""Failure notices end to end (issue 5): mail in a real Dovecot inbox, `touchlog poll --once`,
and what the sender finds in their mailbox (a real SMTP server, aiosmtpd)."""

from __future__ import annotations

import json
from email.message import EmailMessage

import pytest

from tests.builders import make_mail

NOTICE_SUBJECT = "Touchpoint not logged: "


def notices_to(world, address: str) -> list[EmailMessage]:
    return [r.message for r in world.smtp.messages if address in r.rcpt_tos]


def body_of(message: EmailMessage) -> str:
    return message.get_content()


def assert_notice_headers(notice: EmailMessage, original_id: str) -> None:
    assert notice["Auto-Submitted"] == "auto-replied"
    assert notice["X-Auto-Response-Suppress"] == "All"
    assert notice["X-Touchlog-Notice"]
    assert notice["In-Reply-To"] == f"<{original_id}>"
    assert "touchpoints@ourco.com" in notice["From"]


def nested_multipart(levels: int, sender: str, subject: str, message_id: str) -> bytes:
    """A message whose MIME parts nest `levels` deep: too deep for touchlog to read."""
    head = (f"From: {sender}\r\nTo: wile@acme.com\r\nSubject: {subject}\r\n"
            f"Message-ID: <{message_id}>\r\nDate: Mon, 02 Nov 2026 14:30:00 +0000\r\n"
            "MIME-Version: 1.0\r\n").encode()
    body = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
                    for i in range(levels))
    body += b"Content-Type: text/plain\r\n\r\nhello\r\n"
    body += b"".join(b"--b%d--\r\n" % i for i in reversed(range(levels)))
    return head + body


# reason -> (mail that fails with it, words the notice must contain, addresses it must list)
CASES = {
    "unknown_sender": (
        dict(sender="Newbie <newbie@ourco.com>", to="wile@acme.com", subject="Intro call"),
        ["not a touchlog team member", "add your address to the team", "newbie@ourco.com"],
        []),
    "no_customer_address": (
        dict(to="touchpoints@ourco.com", subject="Call notes", body="We talked budgets."),
        ["no customer (external) address", "Bcc or Cc",
         "customer's address in the subject"],
        []),
    "plus_address": (
        dict(to="wile+promo@acme.com", subject="Promo"),
        ["+extension", "plain address"],
        ["wile+promo@acme.com"]),
    "no_account": (
        dict(to="someone@unknown-corp.com", subject="Hello there"),
        ["No account", "matches the contact's address in touchlog exactly",
         "add the person as a contact", "log the touchpoint by hand"],
        ["someone@unknown-corp.com"]),
    "ambiguous_account": (
        dict(to="touchpoints@ourco.com", subject="x@initech.com", body="Met their CTO."),
        ["Several accounts match", "Keep the contact on one account",
         "default flag (default_bcc)", "by hand"],
        ["x@initech.com"]),
    "empty": (
        dict(to="wile@acme.com", subject="", body=""),
        ["no subject and no text", "Add a subject or some text"],
        []),
}


@pytest.mark.parametrize("reason", sorted(CASES))
def test_each_failure_reason_sends_one_notice_that_says_why_and_how_to_fix(world_with_smtp,
                                                                          reason):
    world = world_with_smtp
    mail, words, addresses = CASES[reason]
    message_id = f"{reason}-1@ourco.com"
    world.imap.append(make_mail(message_id=f"<{message_id}>", **mail))

    out = world.poll()
    assert f"failed 1 ({reason} 1)" in out

    [notice] = world.smtp.messages
    sender = mail.get("sender", "sam@ourco.com")
    address = sender.split("<")[-1].rstrip(">")
    assert notice.rcpt_tos == [address]
    assert notice.mail_from == "touchpoints@ourco.com"
    msg = notice.message
    subject = mail["subject"] or "(no subject)"
    assert msg["Subject"] == NOTICE_SUBJECT + subject
    assert_notice_headers(msg, message_id)
    body = body_of(msg)
    for word in words:
        assert word in body, (word, body)
    for candidate in addresses:
        assert f"  - {candidate}" in body, body
    assert "Addresses considered:" in body and "How to fix it:" in body
    # The message itself waits in the failed folder with its reason.
    [(flags, _)] = world.folder_contents("Touchpoints/Failed").values()
    assert f"$tl_{reason}" in flags
    assert world.folder_contents("INBOX") == {}


def test_unreadable_message_fails_parse_error_and_its_sender_hears_of_it(world_with_smtp):
    world = world_with_smtp
    raw = nested_multipart(1000, "Sam Seller <sam@ourco.com>", "Deep thoughts",
                           "deep-1@ourco.com")
    world.imap.append(raw, authenticate=False)  # unreadable: nothing to authenticate
    assert "failed 1 (parse_error 1)" in world.poll()
    [notice] = world.smtp.messages
    assert notice.rcpt_tos == ["sam@ourco.com"]
    msg = notice.message
    assert msg["Subject"] == NOTICE_SUBJECT + "Deep thoughts"
    assert "could not read the message" in body_of(msg)
    assert msg["Auto-Submitted"] == "auto-replied" and msg["X-Touchlog-Notice"]
    # The raw bytes are kept, never lost.
    [(flags, kept)] = world.folder_contents("Touchpoints/Failed").values()
    assert "$tl_parse_error" in flags
    assert kept.replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n")


def test_unreadable_message_is_listed_with_its_detail(world_with_smtp):
    world = world_with_smtp
    world.imap.append(nested_multipart(1000, "sam@ourco.com", "Deep", "deep-2@ourco.com"))
    world.poll()
    [failure] = world.failures()
    assert (failure["reason"], failure["sender"], failure["subject"]) == (
        "parse_error", "sam@ourco.com", "Deep")
    assert "nested too deeply" in failure["detail"]
    out = world.touchlog("failures", "show", str(failure["uid"])).output
    assert "nested too deeply" in out


def test_unreadable_message_notice_answers_the_original(world_with_smtp):
    world = world_with_smtp
    world.imap.append(nested_multipart(1000, "sam@ourco.com", "Deep", "deep-3@ourco.com"))
    world.poll()
    [notice] = world.smtp.messages
    assert notice.message["In-Reply-To"] == "<deep-3@ourco.com>"


def test_forged_outside_sender_gets_nothing(world_with_smtp):
    world = world_with_smtp
    world.imap.append(make_mail(sender="Mallory <mallory@evil.com>", to="wile@acme.com",
                                subject="Send me everything"))
    assert "failed 1 (unknown_sender 1)" in world.poll()
    assert world.smtp.messages == []
    [failure] = world.failures()
    assert (failure["reason"], failure["sender"]) == ("unknown_sender", "mallory@evil.com")


def test_alias_sender_gets_the_notice_at_the_alias(world_with_smtp):
    world = world_with_smtp
    world.imap.append(make_mail(sender="sam.alias@ourco.com", to="nobody@unknown-corp.com"))
    world.poll()
    [notice] = world.smtp.messages
    assert notice.rcpt_tos == ["sam.alias@ourco.com"]


def test_no_notice_for_logged_or_skipped_mail(world_with_smtp):
    world = world_with_smtp
    world.imap.append(make_mail(to="wile@acme.com", subject="Pricing"))
    world.imap.append(make_mail(to="wile@acme.com", subject="Automatic reply: Pricing",
                                headers={"Auto-Submitted": "auto-replied"}))
    world.imap.append(make_mail(sender="MAILER-DAEMON@mx.acme.com", to="sam@ourco.com",
                                subject="Undelivered Mail Returned to Sender"))
    world.imap.append(make_mail(sender="news@vendor.com", to="sam@ourco.com",
                                subject="Our newsletter", headers={"Precedence": "bulk"}))
    out = world.poll()
    assert out.startswith("logged 1, skipped 3")
    assert "failed 0" in out
    assert world.smtp.messages == []
    assert world.failures() == []


def test_a_notice_that_comes_back_to_the_mailbox_is_skipped_no_loop(world_with_smtp):
    world = world_with_smtp
    world.imap.append(make_mail(to="someone@unknown-corp.com", subject="Hello"))
    world.poll()
    [notice] = world.smtp.messages
    # The sender forwards it back, or a rule delivers it to the shared mailbox.
    world.imap.append(notice.message.as_bytes())
    out = world.poll()
    assert out.startswith("logged 0, skipped 1 (own_notice 1), failed 0")
    assert len(world.smtp.messages) == 1
    assert len(world.folder_contents("Touchpoints/Logged")) == 1
    assert world.poll().startswith("logged 0, skipped 0, failed 0")
    assert len(world.smtp.messages) == 1


def test_rate_limit_caps_notices_per_sender_per_hour(world_with_smtp):
    world = world_with_smtp
    world.write_settings(notify={"max_per_sender_per_hour": 2})
    for n in range(3):
        world.imap.append(make_mail(to=f"x{n}@unknown-corp.com", subject=f"Try {n}",
                                    message_id=f"<rate-{n}@ourco.com>"))
    world.imap.append(make_mail(sender="ann@ourco.com", to="y@unknown-corp.com",
                                subject="Ann's try"))
    assert "failed 4 (no_account 4)" in world.poll()
    to_sam = notices_to(world, "sam@ourco.com")
    assert [m["Subject"] for m in to_sam] == [NOTICE_SUBJECT + "Try 0", NOTICE_SUBJECT + "Try 1"]
    assert len(notices_to(world, "ann@ourco.com")) == 1  # the limit is per sender
    # All three messages are in the failed folder all the same; the held notice is not sent later.
    assert len(world.failures()) == 4
    world.poll()
    assert len(notices_to(world, "sam@ourco.com")) == 2
    [run] = json.loads(world.touchlog("runs", "--format", "json", "--limit", "1").output)
    assert run["counts"].get("notices:suppressed", 0) == 0  # the second pass had none to hold
    first = json.loads(world.touchlog("runs", "--format", "json").output)[-1]
    assert first["counts"]["notices:sent"] == 3
    assert first["counts"]["notices:suppressed"] == 1


def test_notices_off_sends_nothing(world_with_smtp):
    world = world_with_smtp
    world.write_settings(notify={"enabled": False})
    world.imap.append(make_mail(to="someone@unknown-corp.com"))
    assert "failed 1 (no_account 1)" in world.poll()
    assert world.smtp.messages == []
