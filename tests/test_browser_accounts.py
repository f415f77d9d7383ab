"""The web app in a real browser (Debian's Chromium, headless, tests/browser.py) against
`touchlog serve`: signing in by the mailed link, the accounts page and its search, the keyboard,
signing out, and the Content-Security-Policy holding on every page with nothing blocked.
Screenshots of each page at laptop and phone size land in tests/artifacts/."""

from __future__ import annotations

import re

import pytest

from tests.builders import make_mail
from tests.web_world import HOSTILE

pytestmark = pytest.mark.browser


def _expect():
    from playwright.sync_api import expect

    return expect


def test_a_member_signs_in_by_the_mailed_link_and_sees_the_accounts(browser, served):
    expect, page = _expect(), browser.page
    page.goto("/accounts")
    expect(page).to_have_url(re.compile(r"/login$"))
    assert browser.unlabelled_fields() == [] and browser.low_contrast() == []
    browser.shoot("sign-in")
    page.get_by_label("Your work email address").fill("sam.alias@ourco.com")
    page.get_by_role("button", name="Mail me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your mail")).to_be_visible()
    browser.shoot("check-your-mail")

    link = served.link_for("sam.alias@ourco.com")
    assert link.startswith(f"{served.base}/login/link/")
    page.goto(link)
    expect(page.get_by_role("heading", name="Sign in to touchlog")).to_be_visible()
    browser.shoot("the-link")
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(r"/accounts$"))
    expect(page.locator(".who")).to_have_text("Sam Seller")
    expect(page.get_by_role("link", name="Accounts")).to_have_attribute("aria-current", "page")
    rows = page.locator("#accounts tbody tr")
    expect(rows).to_have_count(7)
    expect(page.get_by_role("link", name="Acme Corp")).to_have_attribute("href", "/accounts/ACME")
    # A name someone typed into the accounts CSV is shown as the text it is, and runs nothing
    # (the fixture fails the test on any dialog or CSP violation).
    expect(page.get_by_role("link", name=HOSTILE)).to_be_visible()
    browser.shoot("accounts")

    # The link worked once: opened again it offers a new one, and signs nobody in.
    page.goto(link)
    expect(page.get_by_role("heading", name="This link no longer works")).to_be_visible()


def test_searching_the_accounts_by_name_or_id_as_you_type_and_by_the_button(browser):
    expect, page = _expect(), browser.page
    browser.sign_in("sam@ourco.com")
    page.get_by_label("Find an account by name or id").fill("glob")
    # htmx swaps the list in as you type (no page load) and puts the search in the address.
    expect(page.locator("#accounts tbody th")).to_have_text(["Globex", "Globex Europe"])
    expect(page.get_by_role("status")).to_have_text("2 accounts matching “glob”")
    expect(page).to_have_url(re.compile(r"/accounts\?q=glob$"))
    browser.shoot("accounts-search")

    page.get_by_label("Find an account by name or id").fill("initech2")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/accounts\?q=initech2$"))
    expect(page.locator("#accounts tbody th")).to_have_text(["Initech Labs"])

    page.get_by_label("Find an account by name or id").fill("nothing-like-it")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("No account's name or id contains “nothing-like-it”.")).to_be_visible()
    browser.shoot("accounts-none")


def test_the_keyboard_reaches_the_skip_link_the_search_and_submits_with_enter(browser):
    expect, page = _expect(), browser.page
    browser.sign_in("sam@ourco.com")
    page.goto("/accounts")
    page.keyboard.press("Tab")
    skip = browser.focused()
    assert (skip["tag"], skip["text"]) == ("a", "Skip to the content")
    assert skip["outline"], "the focused skip link shows no outline"
    expect(page.get_by_role("link", name="Skip to the content")).to_be_in_viewport()
    browser.shoot("skip-link-focused")

    page.keyboard.press("Enter")
    assert browser.focused()["id"] == "main"
    page.keyboard.press("Tab")
    field = browser.focused()
    assert (field["tag"], field["id"]) == ("input", "q")
    assert field["outline"], "the focused search field shows no outline"
    page.keyboard.type("acme")
    page.keyboard.press("Tab")  # from the search field to its button, focus still shown
    button = browser.focused()
    assert (button["tag"], button["text"], button["outline"]) == ("button", "Search", True)
    page.keyboard.press("Shift+Tab")
    assert browser.focused()["id"] == "q"
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/accounts\?q=acme$"))
    expect(page.locator("#accounts tbody th")).to_have_text(["Acme Corp"])
    expect(page.get_by_label("Find an account by name or id")).to_have_value("acme")


def test_signing_out_ends_the_session_in_this_browser(browser):
    expect, page = _expect(), browser.page
    browser.sign_in("ann@ourco.com")
    expect(page.locator(".who")).to_contain_text("Ann Admin")
    expect(page.get_by_role("link", name="Audit")).to_be_visible()  # an admin's menu
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    page.goto("/accounts")
    expect(page).to_have_url(re.compile(r"/login$"))
    page.go_back()  # a page from before, reloaded from the server: no-store, so no stale copy
    page.reload()
    expect(page).to_have_url(re.compile(r"/login$"))


def test_no_page_an_admin_can_reach_breaks_the_content_security_policy(browser, served):
    """Every page the menu and the pages link to, as an admin: nothing blocked by the CSP
    (the fixture fails the test on any violation or console error), no inline script or style,
    every field labelled, every text readable (WCAG AA contrast), each shot at both sizes."""
    page, world = browser.page, served.world
    world.imap.append(make_mail(to="wile@acme.com", subject=HOSTILE))  # logged on Acme
    world.imap.append(make_mail(to="jill@nowhere.example", subject="Nobody knows Jill"))
    world.poll()  # one logged, one failed: a touchpoint page and a row to review
    world.touchlog("tasks", "add", "--account", "ACME", "--as", "sam@ourco.com",
                   "--title", HOSTILE)
    browser.sign_in("ann@ourco.com")
    seen: set[str] = set()
    queue = ["/accounts"]
    while queue and len(seen) < 40:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = page.goto(path)
        assert response is not None and response.status == 200, (path, response and
                                                                  response.status)
        assert page.evaluate("document.querySelectorAll('[style], script:not([src])').length") == 0
        assert browser.unlabelled_fields() == [], path
        assert browser.low_contrast() == [], path
        browser.shoot(re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home")
        for href in page.eval_on_selector_all(
                "a[href^='/']", "links => links.map(a => a.getAttribute('href'))"):
            if not href.startswith(("/static/", "/login", "/logout")) and href not in seen:
                queue.append(href)
    parts = page.eval_on_selector_all(
        "link[href], script[src]", "els => els.map(e => e.getAttribute('href') || e.src)")
    assert any(p.endswith("favicon.svg") for p in parts), parts
    for part in parts:  # the style sheet, the icon, htmx: each served from here
        assert page.request.get(part).ok, part
    assert {"/accounts", "/accounts/ACME", "/touchpoints/1", "/review", "/tasks", "/runs",
            "/audit"} <= seen
    assert not browser.problems


def test_the_watcher_sees_what_the_policy_blocks(browser):
    """The check the other tests count on: an inline handler slipped into a page is blocked by
    the CSP, and the watcher reports it."""
    page = browser.page
    browser.sign_in("sam@ourco.com")
    page.evaluate("document.body.insertAdjacentHTML('beforeend', "
                  "'<img src=\"/static/none.png\" onerror=\"alert(1)\">')")
    page.wait_for_timeout(500)
    blocked = [p for p in browser.problems if "script-src" in p]
    assert blocked, browser.problems
    browser.problems.clear()  # seen on purpose


def test_the_contrast_and_label_checks_see_what_they_look_for(browser):
    """The checks the page tests count on, shown a pale text and a field without a label."""
    page = browser.page
    browser.sign_in("sam@ourco.com")
    assert browser.low_contrast() == [] and browser.unlabelled_fields() == []
    page.evaluate("""() => {
        const p = document.createElement('p'); p.textContent = 'pale words';
        p.style.color = '#aaaaaa'; document.querySelector('main').append(p);
        document.querySelector('main').append(document.createElement('textarea')); }""")
    [pale] = browser.low_contrast()
    assert '"pale words" 2.' in pale
    [field] = browser.unlabelled_fields()
    assert field.startswith("<textarea")
