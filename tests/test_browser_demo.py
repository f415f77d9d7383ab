"""`make demo` ends with its web app up: the address and a sign-in link for a demo member,
which signs in in a real browser and shows the demo's accounts and timeline; Enter stops the
demo, and the web app with it."""

from __future__ import annotations

import re

import pytest
import requests

from tests.browser import Browser
from tools.demo import running_demo

pytestmark = pytest.mark.browser


def test_the_demo_prints_a_link_that_opens_its_web_app_and_stops_it_on_enter(chromium, tmp_path,
                                                                            request):
    from playwright.sync_api import expect

    with running_demo(tmp_path / "demo") as demo:
        printed = "".join(demo.output)
        assert f"serving {demo.base} (people open {demo.base})" in printed
        assert f"  {demo.base}  (the accounts, timelines" in printed
        assert "road.runner@ourco.com, an admin" in printed
        browser = Browser(chromium, demo.base, request.node.name)
        try:
            page = browser.page
            page.goto(demo.sign_in_link)
            page.get_by_role("button", name="Sign in").click()
            expect(page).to_have_url(re.compile(r"/accounts$"))
            expect(page.locator(".who")).to_contain_text("Road Runner")
            expect(page.get_by_role("link", name="ACME Corporation")).to_be_visible()
            browser.shoot("demo-accounts")
            page.get_by_role("link", name="ACME Corporation").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("ACME Corporation")
            expect(page.get_by_role("link", name="Skates: delivery call")).to_be_visible()
            browser.shoot("demo-timeline")
            page.get_by_role("link", name="Review").click()
            expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
            browser.shoot("demo-review")  # long verdicts and addresses: still fits the width
        finally:
            browser.close()
        assert not browser.problems, browser.problems
    assert demo.exit_status == 0, "".join(demo.output[-20:])
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{demo.base}/healthz", timeout=5)
