"""The review queue and the tasks in a real browser (Debian's Chromium, headless) against
`touchlog serve` over a real Dovecot: a failed mail assigned to an account with `remember`,
the message moved from the failed folder to the logged one on the server, and the next mail
from that customer logged by what was remembered; a task added and completed."""

from __future__ import annotations

import re

import pytest

from tests.builders import make_mail

pytestmark = pytest.mark.browser

FAILED = "Touchpoints/Failed"
LOGGED = "Touchpoints/Logged"


def _expect():
    from playwright.sync_api import expect

    return expect


def test_assign_a_failed_mail_with_remember_and_see_it_moved_on_the_server(browser, served):
    expect, page = _expect(), browser.page
    world = served.world
    world.imap.append(make_mail(to="Jill Doe <jill@newcustomer.example>",
                                subject="Intro call with Jill"))
    world.poll()
    [failed_uid] = world.imap.messages(FAILED)
    assert world.imap.messages(LOGGED) == {}

    browser.sign_in("sam@ourco.com")
    page.get_by_role("link", name="Review").click()
    expect(page).to_have_url(re.compile(r"/review$"))
    row = page.locator(f"#uid-{failed_uid}")
    expect(row).to_contain_text("Intro call with Jill")
    expect(row).to_contain_text("sam@ourco.com")
    assert browser.unlabelled_fields() == []
    browser.shoot("review")

    row.get_by_label("Log it on the account (id)").fill("ACME")
    row.get_by_label("Remember its customer addresses on that account").check()
    row.get_by_role("button", name=f"Assign UID {failed_uid}").click()
    result = page.locator(".result")
    expect(result).to_contain_text(f"UID {failed_uid} logged on")
    expect(result).to_contain_text(f"moved to {LOGGED}")
    browser.shoot("review-assigned")

    # On the server itself, read over IMAP apart from touchlog: gone from the failed folder,
    # in the logged one.
    assert world.imap.messages(FAILED) == {}
    [(_, raw)] = world.imap.messages(LOGGED).values()
    assert b"Intro call with Jill" in raw

    # Remembered: Jill's next mail is logged on Acme by her address, with nothing to review.
    world.imap.append(make_mail(to="jill@newcustomer.example", subject="Follow-up with Jill"))
    world.poll()
    assert world.imap.messages(FAILED) == {}
    [follow_up] = [t for t in world.touchpoints() if t["subject"] == "Follow-up with Jill"]
    assert follow_up["account_id"] == "ACME"
    page.goto("/review")
    expect(page.get_by_text("Nothing to review")).to_be_visible()


def test_add_a_task_and_complete_it(browser):
    expect, page = _expect(), browser.page
    browser.sign_in("sam@ourco.com")
    page.get_by_role("link", name="Tasks").click()
    expect(page.get_by_role("heading", name="Tasks")).to_be_visible()
    form = page.locator("form", has=page.get_by_role("button", name="Add the task"))
    form.get_by_label("Account id").fill("ACME")
    form.get_by_label("Title").fill("Send the deposit invoice")
    form.get_by_label("Due").fill("2026-12-01")
    assert browser.unlabelled_fields() == []
    browser.shoot("tasks-new")
    form.get_by_role("button", name="Add the task").click()

    row = page.get_by_role("row", name=re.compile("Send the deposit invoice"))
    expect(row).to_contain_text("Open")
    expect(row).to_contain_text("2026-12-01")
    expect(row.get_by_role("link", name="Acme Corp")).to_be_visible()
    browser.shoot("tasks")

    row.get_by_label("Follow-up touchpoint subject").fill("Invoice sent")
    row.get_by_role("button", name="Done").click()
    expect(page.locator(".result")).to_contain_text("follow-up touchpoint")
    row = page.get_by_role("row", name=re.compile("Send the deposit invoice"))
    expect(row).to_contain_text("Completed")
    page.locator(".result").get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Invoice sent")
    browser.shoot("tasks-follow-up")
