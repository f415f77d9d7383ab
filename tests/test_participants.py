"""Scenario, participants and customer candidates (SPEC sections 2 and 3)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.addresses import PersonalDomains
from poller.mail.message import Address, Message, parse_message
from poller.understand.participants import (
    AddressBook,
    Participant,
    Understanding,
    header_participants,
    understand,
)

MAILBOX = "touchpoints@ourco.com"
BOOK = AddressBook(
    mailbox_address=MAILBOX,
    internal_domains=("ourco.com",),
    team_addresses=frozenset({"sam@ourco.com", "sam.private@partner.net"}),
    personal_domains=PersonalDomains(),
)


def mail(sender: str = "sam@ourco.com", to: tuple[str, ...] = (MAILBOX,), cc: tuple[str, ...] = (),
         subject: str = "Hello", text: str = "", attached: tuple[Message, ...] = ()) -> Message:
    return Message(
        key="k", message_id="", subject=subject, sender=Address(sender),
        to=tuple(map(Address, to)), cc=tuple(map(Address, cc)), date=None, text=text, html="",
        headers={}, content_type="text/plain", part_types=("text/plain",), references=(),
        attached_messages=attached,
    )


def read(msg: Message, book: AddressBook = BOOK) -> Understanding:
    return understand(msg, book)


FORWARD = """FYI

---------- Forwarded message ---------
From: Wile E. Coyote <Wile@Acme.com>
Date: Mon
Subject: Anvils
To: Sam <sam@ourco.com>
Cc: beep@road.com, ann@ourco.com
"""


def test_bcc_copy_lists_external_to_then_cc() -> None:
    u = read(mail(to=("wile@acme.com", "ann@ourco.com"), cc=("beep@road.com",)))
    assert (u.scenario, u.failure) == ("copy", None)
    assert u.candidates == ("wile@acme.com", "beep@road.com")
    assert Participant("ann@ourco.com", "", "internal") in u.participants
    assert Participant("wile@acme.com", "", "external") in u.participants


def test_mailbox_is_never_a_participant_nor_a_candidate() -> None:
    u = read(mail(to=("wile@acme.com",), cc=("Touchpoints@OurCo.com",)))
    assert all(p.email.lower() != MAILBOX for p in u.participants)
    assert MAILBOX not in u.candidates


def test_reply_quoting_an_outlook_original_stays_a_copy() -> None:
    text = "Thanks!\n\n-----Original Message-----\nFrom: Old <old@elsewhere.com>\nSent: Mon\n" \
           "To: sam@ourco.com\nSubject: Anvils\n"
    u = read(mail(to=("wile@acme.com",), text=text))
    assert (u.scenario, u.candidates) == ("copy", ("wile@acme.com",))


def test_forward_uses_the_forwarded_people_not_the_forwarder() -> None:
    u = read(mail(text=FORWARD, subject="Fwd: Anvils"))
    assert u.scenario == "forward"
    assert u.candidates == ("wile@acme.com", "beep@road.com")
    assert [(p.email, p.role) for p in u.participants] == [
        ("Wile@Acme.com", "external"), ("sam@ourco.com", "internal"),
        ("beep@road.com", "external"), ("ann@ourco.com", "internal")]
    assert u.participants[0].name == "Wile E. Coyote"


def test_forward_of_a_forward_takes_the_innermost_block_with_a_customer() -> None:
    inner = "\n---------- Forwarded message ---------\nFrom: Beep <beep@road.com>\nDate: Sun\n" \
            "Subject: Meep\nTo: wile@acme.com\n"
    colleague = "---------- Forwarded message ---------\nFrom: Ann <ann@ourco.com>\nDate: Mon\n" \
                "To: sam@ourco.com\n"
    assert read(mail(text=FORWARD + inner)).candidates == ("beep@road.com", "wile@acme.com")
    # An internal block inside does not hide the customer block around it.
    assert read(mail(text=FORWARD + "\n" + colleague)).candidates[0] == "wile@acme.com"


def test_attached_message_forward() -> None:
    inner = mail(sender="wile@acme.com", to=("sam@ourco.com",), subject="Anvils")
    u = read(mail(text="see attached", attached=(inner,)))
    assert (u.scenario, u.candidates) == ("forward", ("wile@acme.com",))


def test_names_only_forward_fails_and_never_credits_the_forwarder() -> None:
    text = "-----Original Message-----\nFrom: Wile E. Coyote\nSent: Mon\nTo: Sam Seller\n" \
           "Subject: Anvils\n"
    u = read(mail(text=text, subject="FW: Anvils"))
    assert (u.failure, u.candidates) == ("no_customer_address", ())
    assert "only names (Wile E. Coyote, Sam Seller)" in u.detail


def test_note_takes_subject_addresses_and_cleans_the_subject() -> None:
    u = read(mail(subject="jill@cust.com call notes", text="We talked about anvils."))
    assert (u.scenario, u.candidates, u.subject, u.participants) == (
        "note", ("jill@cust.com",), "call notes", ())


@pytest.mark.parametrize("subject, cleaned", [
    ("Re: jill@cust.com - call notes", "Re: call notes"),
    ("<jill@cust.com>, bob@other.com: kickoff", "kickoff"),
    ("jill@cust.com and bob@other.com | QBR", "QBR"),
    ("Lunch   with (jill@cust.com)", "Lunch with"),
])
def test_note_subject_cleaning(subject: str, cleaned: str) -> None:
    assert read(mail(subject=subject)).subject == cleaned


def test_note_skips_internal_subject_addresses() -> None:
    u = read(mail(subject="ann@ourco.com jill@cust.com notes"))
    assert (u.candidates, u.subject) == (("jill@cust.com",), "notes")


def test_no_external_address_anywhere_fails() -> None:
    u = read(mail(to=(MAILBOX, "ann@ourco.com"), subject="weekly notes", text="nothing"))
    assert (u.scenario, u.failure) == (None, "no_customer_address")
    assert "subject holds no address" in u.detail


def test_subdomain_of_an_internal_domain_is_internal() -> None:
    u = read(mail(to=("bob@eu.sales.ourco.com",), subject="x"))
    assert u.failure == "no_customer_address"


def test_senders_own_domain_is_internal() -> None:
    book = replace(BOOK, team_addresses=BOOK.team_addresses | {"kim@subsidiary.com"})
    u = read(mail(sender="kim@subsidiary.com", to=("lee@subsidiary.com", "wile@acme.com")), book)
    assert u.candidates == ("wile@acme.com",)
    assert Participant("lee@subsidiary.com", "", "internal") in u.participants


def test_own_domain_counts_only_for_a_team_member_whose_from_was_established() -> None:
    """SPEC 20: a customer (any sender off the team) makes none of their colleagues internal,
    and neither does a team address whose From was never established (a forgery)."""
    msg = mail(sender="wile@acme.com", to=("road@acme.com", "sam@ourco.com"))
    assert read(msg).candidates == ("road@acme.com",)
    forged = mail(sender="sam.private@partner.net", to=("lee@partner.net",))
    assert understand(forged, BOOK, trusted=False).candidates == ("lee@partner.net",)
    people = header_participants(msg, BOOK)
    assert {p.email: p.role for p in people} == {"wile@acme.com": "external",
                                                 "road@acme.com": "external",
                                                 "sam@ourco.com": "internal"}
    trusted = understand(mail(sender="sam.private@partner.net", to=("lee@partner.net",),
                              subject="x"), BOOK)
    assert trusted.failure == "no_customer_address"  # lee is the member's colleague


def test_senders_personal_domain_does_not_make_customers_internal() -> None:
    u = read(mail(sender="sam.home@gmail.com", to=("wile.coyote@gmail.com",)))
    assert u.candidates == ("wile.coyote@gmail.com",)


def test_team_alias_outside_internal_domains_is_internal() -> None:
    u = read(mail(to=("Sam.Private@partner.net", "wile@acme.com")))
    assert u.candidates == ("wile@acme.com",)


def test_case_sensitive_local_part_keeps_distinct_addresses() -> None:
    book = AddressBook(MAILBOX, ("ourco.com",), frozenset(), PersonalDomains(), True)
    u = read(mail(to=("Wile@ACME.com", "wile@acme.com")), book)
    assert u.candidates == ("Wile@acme.com", "wile@acme.com")


def test_forward_of_internal_mail_with_customer_in_subject_is_a_note():
    raw = (b"From: Sam <sam@ourco.com>\r\nTo: touchpoints@ourco.com\r\n"
           b"Subject: Fwd: wile@acme.com pricing thread\r\n\r\n"
           b"---------- Forwarded message ---------\r\nFrom: Ann <ann@ourco.com>\r\n"
           b"Date: Mon, Nov 2, 2026 at 9:00 AM\r\nSubject: pricing\r\nTo: Sam <sam@ourco.com>\r\n"
           b"\r\nInternal numbers.\r\n")
    u = understand(parse_message(raw), BOOK)
    assert (u.scenario, u.candidates, u.subject) == ("note", ("wile@acme.com",),
                                                      "Fwd: pricing thread")
