"""Which mail is skipped silently (SPEC section 5), judged by the outer message only."""

from __future__ import annotations

import pytest

from core.own_mail import NOTICE_HEADER
from poller.mail.message import parse_message
from poller.understand.filters import skip_reason

HEAD = "From: Wile Coyote <wile@acme.com>\nTo: sam@ourco.com\nMessage-ID: <m1@acme.com>\n"


def reason(headers: str = "", subject: str = "Rockets", body: str = "Please quote.") -> str | None:
    raw = f"{HEAD}Subject: {subject}\n{headers}\n{body}".encode()
    return skip_reason(parse_message(raw))


@pytest.mark.parametrize(
    ("headers", "subject", "expected"),
    [
        ("Auto-Submitted: auto-replied\n", "Away", "auto_generated"),
        ("Auto-Submitted: auto-generated (failure)\n", "Rockets", "auto_generated"),
        ("Auto-Submitted: no\n", "Rockets", None),
        ("X-Autoreply: yes\n", "Rockets", "auto_generated"),
        ("X-Autorespond: Away\n", "Rockets", "auto_generated"),
        ("Precedence: auto_reply\n", "Rockets", "auto_generated"),
        ("X-Auto-Response-Suppress: All\n", "Automatic reply: Rockets", "auto_generated"),
        ("X-Auto-Response-Suppress: All\n", "Out of Office: back Monday", "auto_generated"),
        ("X-Auto-Response-Suppress: All\n", "Abwesenheitsnotiz: Raketen", "auto_generated"),
        ("X-Auto-Response-Suppress: All\n", "Réponse automatique : Fusées", "auto_generated"),
        ("", "Automatyczna odpowiedź: Rakiety", "auto_generated"),
        ("", "Auto reply: Rockets", "auto_generated"),
        # a person may write these words; without Exchange's header they are the customer's
        ("", "Out of office next week - can we talk today?", None),
        ("X-Auto-Response-Suppress: All\n", "Rockets", None),
        ("", "Re: Automatic reply: Rockets", None),
        ("Precedence: bulk\n", "Rockets", "bulk"),
        ("Precedence: junk\n", "Rockets", "bulk"),
        ("Precedence: list\n", "Rockets", "bulk"),
        ("List-Id: Rocket users <rockets.lists.acme.com>\n", "Rockets", "bulk"),
        ("List-Unsubscribe: <mailto:leave@acme.com>\nPrecedence: bulk\n", "Rockets", "bulk"),
        ("Feedback-ID: 123:acme:mailchimp\n", "Rockets", "bulk"),
        ("List-Unsubscribe: <mailto:leave@acme.com>\n", "Rockets", None),
        ("Return-Path: <>\n", "Rockets", "bounce"),
        ("Return-Path: <wile@acme.com>\n", "Rockets", None),
        (f"{NOTICE_HEADER}: no_account\nAuto-Submitted: auto-replied\n", "x", "own_notice"),
        ("", "Rockets", None),
    ],
)
def test_skip_reason_by_header(headers: str, subject: str, expected: str | None) -> None:
    assert reason(headers, subject) == expected


@pytest.mark.parametrize("sender", ["MAILER-DAEMON@mx.acme.com", "postmaster@acme.com"])
def test_mail_from_the_mail_system_is_a_bounce(sender: str) -> None:
    raw = f"From: Mail Delivery System <{sender}>\nTo: sam@ourco.com\nSubject: Undeliverable\n\nx"
    assert skip_reason(parse_message(raw.encode())) == "bounce"


def test_delivery_report_is_a_bounce() -> None:
    headers = 'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\n'
    body = (
        "--r\nContent-Type: text/plain\n\nCould not deliver.\n"
        "--r\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.acme.com\n\n"
        "Final-Recipient: rfc822; x@acme.com\nAction: failed\n--r--\n"
    )
    assert reason(headers, "Undeliverable", body) == "bounce"


ICS = (
    "BEGIN:VCALENDAR\nMETHOD:{method}\nBEGIN:VEVENT\nSUMMARY:Rocket review\n"
    "DTSTART:20260101T100000Z\nEND:VEVENT\nEND:VCALENDAR\n"
)


def invitation(
    text: str, method: str = "REQUEST", subject: str = "Invitation: Rocket review"
) -> str | None:
    headers = 'Content-Type: multipart/mixed; boundary="c"\n'
    body = (
        f"--c\nContent-Type: text/plain; charset=utf-8\n\n{text}\n"
        f'--c\nContent-Type: text/calendar; method={method}; name="invite.ics"\n\n'
        f"{ICS.format(method=method)}--c--\n"
    )
    return reason(headers, subject, body)


def test_calendar_invitation_is_skipped() -> None:
    assert invitation("Rocket review\nThursday 10am\nJoin with Google Meet") == "calendar"


def test_calendar_file_with_no_text_is_skipped() -> None:
    assert invitation("", method="PUBLISH", subject="test") == "calendar"


def test_a_person_sending_a_calendar_file_with_words_is_kept() -> None:
    text = "Hi Sam, attached the dates we discussed for the rocket trial. Call me."
    assert invitation(text, method="PUBLISH", subject="Trial dates") is None


def test_a_reply_to_an_invitation_with_words_is_kept() -> None:
    text = "Thanks Wile, moving this to Friday works better for us, see you then."
    assert invitation(text, subject="Re: Invitation: Rocket review") is None


def test_seller_reply_quoting_an_auto_reply_is_not_skipped() -> None:
    body = (
        "Wile, following up.\n\n-----Original Message-----\nFrom: Wile\n"
        "Subject: Automatic reply: Rockets\nAuto-Submitted: auto-replied\n\nI am away."
    )
    raw = f"From: sam@ourco.com\nTo: wile@acme.com\nSubject: Re: Rockets\n\n{body}".encode()
    assert skip_reason(parse_message(raw)) is None


def test_forwarded_bounce_is_the_senders_mail() -> None:
    headers = 'Content-Type: multipart/mixed; boundary="f"\n'
    body = (
        "--f\nContent-Type: text/plain\n\nWile's address bounced, any other contact?\n"
        "--f\nContent-Type: message/rfc822\n\nFrom: MAILER-DAEMON@acme.com\nReturn-Path: <>\n"
        "Auto-Submitted: auto-replied\nSubject: Undeliverable\n\nNo such user.\n--f--\n"
    )
    raw = f"From: sam@ourco.com\nTo: touchpoints@ourco.com\nSubject: Fwd: x\n{headers}\n{body}"
    assert skip_reason(parse_message(raw.encode())) is None


def test_a_reply_to_a_notice_is_skipped_as_own_notice():
    from poller.mail.message import parse_message

    raw = (b"From: sam@ourco.com\r\nTo: touchpoints@ourco.com\r\nSubject: Re: Touchpoint not "
           b"logged: hi\r\nIn-Reply-To: <touchlog-notice.7.abc@ourco.com>\r\n\r\nthanks!\r\n")
    assert skip_reason(parse_message(raw)) == "own_notice"
