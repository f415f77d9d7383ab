"""What `failures assign … --remember` may learn (poller.failed.learn.learnable), how it adds
contacts to a real SQLite directory (store.directory.review.add_contacts), and the words of the
step it leaves in the trace (core.learning)."""

from __future__ import annotations

from datetime import datetime

import pytest

from core.addresses import PersonalDomains
from core.learning import remembered_line, remembered_step
from poller.failed.learn import MAX_REMEMBERED, learnable
from poller.understand.participants import AddressBook
from store.directory.lookups import SqlDirectory
from store.directory.review import add_contacts, live_account_names
from store.models import Account, Association, CustomerUser

BOOK = AddressBook("touchpoints@ourco.com", ("ourco.com",),
                   frozenset({"sam@ourco.com", "sam.alias@partner.com"}), PersonalDomains())
WHEN = datetime(2026, 11, 2, 14, 30)


# --- what may be learnt ---------------------------------------------------------------------


def test_internal_addresses_and_what_is_no_address_are_never_learnt():
    wanted, left_out = learnable(
        ["jill@cust.com", "touchpoints@ourco.com", "Touchpoints+t7@ourco.com",
         "sam.alias@partner.com", "x@eu.ourco.com", "not an address", "a@b", "wile@gmail.com"],
        BOOK, "reject")
    assert wanted == ["jill@cust.com", "wile@gmail.com"]  # a personal address is a contact
    assert left_out == [("touchpoints@ourco.com", "internal"),
                        ("Touchpoints+t7@ourco.com", "internal"),
                        ("sam.alias@partner.com", "internal"), ("x@eu.ourco.com", "internal"),
                        ("not an address", "not_an_address"), ("a@b", "not_an_address")]


def test_a_plus_address_is_left_out_under_reject_and_learnt_bare_under_strip():
    candidates = ["bob+crm@cust.com", "jill@cust.com", "jill+x@cust.com"]
    assert learnable(candidates, BOOK, "reject") == (
        ["jill@cust.com"], [("bob+crm@cust.com", "plus_rejected"),
                            ("jill+x@cust.com", "plus_rejected")])
    assert learnable(candidates, BOOK, "strip") == (["bob@cust.com", "jill@cust.com"], [])


def test_addresses_are_learnt_as_the_contact_pass_compares_them():
    assert learnable(["Jill@Cust.COM", "jill@cust.com"], BOOK, "reject") == (
        ["jill@cust.com"], [])
    sensitive = AddressBook("touchpoints@ourco.com", ("ourco.com",), frozenset(),
                            PersonalDomains(), case_sensitive_local_part=True)
    assert learnable(["Jill@Cust.COM", "jill@cust.com"], sensitive, "reject") == (
        ["Jill@cust.com", "jill@cust.com"], [])


def test_one_message_teaches_at_most_max_remembered_addresses():
    many = [f"p{n}@cust.com" for n in range(MAX_REMEMBERED + 3)]
    wanted, left_out = learnable(many, BOOK, "reject")
    assert wanted == many[:MAX_REMEMBERED]
    assert left_out == [(a, "too_many") for a in many[MAX_REMEMBERED:]]


def test_a_huge_address_is_kept_short_in_the_trace():
    huge = "x" * 100_000 + "@cust.com"
    [(shown, why)] = learnable([huge], BOOK, "reject")[1]
    assert why == "not_an_address" and len(shown) < 400


# --- the directory ----------------------------------------------------------------------------


@pytest.fixture
def directory(db):
    for acc, name in (("A", "Alpha"), ("B", "Beta")):
        Account.create(account_id=acc, name=name)
    jill = CustomerUser.create(email="Jill@cust.com", email_lower="jill@cust.com",
                               domain="cust.com")
    Association.create(user=jill, account="A", last_activity=datetime(2026, 1, 1))
    CustomerUser.create(email="orphan@cust.com", email_lower="orphan@cust.com",
                        domain="cust.com")
    return db


def test_new_addresses_become_contacts_known_ones_are_left_as_they_are(directory):
    learnt = add_contacts("B", ["jill@cust.com", "new@cust.com", "orphan@cust.com"], WHEN)
    assert learnt.added == ["new@cust.com", "orphan@cust.com"]
    assert learnt.known == {"jill@cust.com": ["A"]}  # under its other spelling, on A only
    look = SqlDirectory()
    [link] = look.contact_accounts("new@cust.com")
    assert (link.account_id, link.last_activity) == ("B", WHEN)
    assert [x.account_id for x in look.contact_accounts("jill@cust.com")] == ["A"]
    assert [x.account_id for x in look.contact_accounts("orphan@cust.com")] == ["B"]
    assert CustomerUser.select().where(CustomerUser.email_lower == "orphan@cust.com").count() \
        == 1
    # Remembering again adds nothing twice.
    again = add_contacts("B", ["new@cust.com"], WHEN)
    assert (again.added, again.known) == ([], {"new@cust.com": ["B"]})
    assert look.domain_accounts("cust.com") == ["A", "B"]


def test_case_sensitive_local_parts_are_different_people(directory):
    learnt = add_contacts("B", ["jill@cust.com"], WHEN, case_sensitive_local_part=True)
    assert learnt.added == ["jill@cust.com"]
    look = SqlDirectory(case_sensitive_local_part=True)
    assert [x.account_id for x in look.contact_accounts("jill@cust.com")] == ["B"]
    assert [x.account_id for x in look.contact_accounts("Jill@cust.com")] == ["A"]


def test_a_removed_account_has_no_live_name(directory):
    Account.update(removed_at=WHEN).where(Account.account_id == "B").execute()
    assert live_account_names(["B", "A", "NOPE", "A"]) == {"A": "Alpha"}


# --- the step in words ------------------------------------------------------------------------


def test_the_step_says_who_remembered_what_and_why_some_were_left():
    step = remembered_step("ann@ourco.com", datetime(2026, 11, 3, 9, 0), "B", WHEN,
                           ["new@cust.com", "bob@cust.com"], {"jill@cust.com": ["A"]},
                           [("x+y@cust.com", "plus_rejected")])
    assert step["at"] == "2026-11-03T09:00:00Z" and step["last_activity"] == "2026-11-02T14:30:00Z"
    assert remembered_line(step, {"A": "Alpha", "B": "Beta"}) == (
        "remembered by ann@ourco.com at 2026-11-03 09:00 on Beta (B): new@cust.com, "
        "bob@cust.com are now its contacts (last activity 2026-11-02 14:30), so their next mail "
        "resolves by contact; jill@cust.com was already a customer user (of Alpha (A)), left as "
        "it was; x+y@cust.com not remembered: it has a +extension (plus_addresses = reject: "
        "never looked up)")


def test_a_step_with_nothing_or_of_a_shape_not_understood_still_reads():
    assert remembered_line({"rule": "remembered"}, {}) == (
        "remembered by ? at unknown on ?: no customer address to remember")
    odd = {"rule": "remembered", "by": "ann@ourco.com", "known": ["x"], "left_out": ["y", 3]}
    assert remembered_line(odd, {}).endswith("no customer address to remember")
