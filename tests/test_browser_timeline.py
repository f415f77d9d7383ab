"""A timeline and its touchpoints in a real browser (Debian's Chromium, headless) against
`touchlog serve`: open an account's timeline, filter it, add a touchpoint by the form, edit it,
and mail it to the customer through the confirmation step, the copy arriving at the SMTP sink.
Each page is shot at laptop and phone size into tests/artifacts/."""

from __future__ import annotations

import re

import pytest

from tests.builders import make_mail

pytestmark = pytest.mark.browser


def _expect():
    from playwright.sync_api import expect

    return expect


def _history(served) -> None:
    """Acme's history: a mail Sam sent Wile (logged by a pass over the real Dovecot), a call
    and an internal note added by hand."""
    world = served.world
    world.imap.append(make_mail(to="Wile E. Coyote <wile@acme.com>",
                                subject="Rocket skates: the price list",
                                body="Hi Wile, the price list is attached in spirit."))
    world.poll()
    world.touchlog("touchpoints", "add", "--account", "ACME", "--as", "sam@ourco.com",
                   "--type", "telephone_call", "--date", "2026-11-03T10:00Z",
                   "--subject", "Call about delivery", "--participant", "wile@acme.com")
    world.touchlog("touchpoints", "add", "--account", "ACME", "--as", "sam@ourco.com",
                   "--type", "internal_note", "--date", "2026-11-04T09:00Z",
                   "--content", "Wile pays late: ask for a deposit.")


def test_open_a_timeline_and_filter_it(browser, served):
    expect, page = _expect(), browser.page
    _history(served)
    browser.sign_in("sam@ourco.com")
    page.get_by_role("link", name="Acme Corp").click()
    expect(page).to_have_url(re.compile(r"/accounts/ACME$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Corp")
    # The note is no touch: the last touch is the call.
    expect(page.locator(".meta").first).to_contain_text("Last touch: 2026-11-03 10:00 UTC")
    subjects = page.locator("table.timeline tbody th a")
    expect(subjects).to_have_text(["(no subject)", "Call about delivery",
                                   "Rocket skates: the price list"])  # newest first
    expect(page.locator("svg")).to_be_visible()  # the chart, drawn by the server
    browser.shoot("timeline")

    page.get_by_label("Internal notes", exact=True).select_option("none")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"notes=none"))
    expect(subjects).to_have_text(["Call about delivery", "Rocket skates: the price list"])
    # A type and a notes filter together are refused (as by the CLI): one at a time.
    page.get_by_label("Internal notes", exact=True).select_option("")
    page.get_by_label("Type", exact=True).select_option("email")
    page.get_by_role("button", name="Filter").click()
    expect(subjects).to_have_text(["Rocket skates: the price list"])
    expect(page.get_by_label("Type", exact=True)).to_have_value("email")  # the filter stays shown
    browser.shoot("timeline-filtered")

    page.get_by_label("Type", exact=True).select_option("")
    page.get_by_label("Internal notes", exact=True).select_option("only")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.timeline tbody tr")).to_have_count(1)
    expect(page.locator("table.timeline tbody tr")).to_contain_text("Wile pays late")
    page.get_by_role("link", name="Clear").click()
    expect(subjects).to_have_count(3)


def test_add_a_touchpoint_edit_it_and_mail_it_to_the_customer(browser, served):
    expect, page = _expect(), browser.page
    browser.sign_in("sam@ourco.com")
    page.goto("/accounts/ACME")
    page.get_by_role("link", name="Add a touchpoint").click()
    expect(page.get_by_role("heading", name="Add a touchpoint")).to_be_visible()
    assert browser.unlabelled_fields() == []
    page.get_by_label("Type", exact=True).select_option(label="In person meeting")
    page.get_by_label("Subject").fill("Demo of the rocket skates")
    page.get_by_label("Content").fill("Wile tried them on <b>the cliff</b>.")
    page.get_by_label("Participant 1").fill("Wile E. Coyote <wile@acme.com>")
    browser.shoot("touchpoint-new")
    page.get_by_role("button", name="Add the touchpoint").click()

    expect(page).to_have_url(re.compile(r"/touchpoints/\d+$"))
    tp_id = page.url.rsplit("/", 1)[1]
    expect(page.get_by_role("heading", level=1)).to_have_text("Demo of the rocket skates")
    expect(page.locator(".content")).to_have_text("Wile tried them on <b>the cliff</b>.")
    expect(page.get_by_role("cell", name="Wile E. Coyote")).to_be_visible()
    browser.shoot("touchpoint")

    page.locator("#edit-subject").fill("Demo of the rocket skates, on the cliff")
    page.get_by_role("button", name="Save the changes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Demo of the rocket skates, on the cliff")
    expect(page.locator("dl.fields")).to_contain_text("by sam@ourco.com")

    # Mailing outside asks first, and sends nothing until the answer is yes.
    page.get_by_label("External participants (1)").check()
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", name="Mail 1 external participant?")).to_be_visible()
    expect(page.locator(".confirm li")).to_have_text(["wile@acme.com"])
    browser.shoot("send-confirm")
    assert not [m for m in served.smtp.messages if "wile@acme.com" in m.rcpt_tos]
    page.get_by_role("button", name="Yes, mail them").click()

    expect(page).to_have_url(re.compile(rf"/touchpoints/{tp_id}$"))
    expect(page.get_by_role("heading", name="Copies mailed")).to_be_visible()
    expect(page.locator(".tag.mailed")).to_have_text(["Emailed externally"])
    [copy] = served.mails_to("wile@acme.com")
    assert copy.message["Subject"].endswith("Demo of the rocket skates, on the cliff")
    page.goto("/accounts/ACME")
    expect(page.get_by_role("row", name=re.compile("on the cliff"))).to_contain_text(
        "Emailed externally")
    browser.shoot("timeline-after")
