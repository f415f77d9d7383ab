"""Sign-in by a one-time link (SPEC 21), with the link taken from what the real SMTP sink
received: the same answer for anyone, the mail, the page whose button spends the link, once,
within 15 minutes, and the limits per address and per client."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from core.utc import utcnow
from tests.web_world import BASE_URL, WEB_TEAM_CSV, WebWorld, text_of


def _answer(web: WebWorld, address: str, **kwargs) -> tuple[int, str]:
    answer = web.ask_link(address, **kwargs)
    return answer.status_code, re.sub(r"[0-9a-f]{64}", "", answer.text)  # CSRF tokens


def test_a_member_signs_in_by_the_link_mailed_to_them(any_web):
    web = any_web
    browser = web.client()
    status, _ = _answer(web, "Sam@OurCo.com", client=browser)
    assert status == 200
    path = web.link_path("sam@ourco.com")
    [received] = [m for m in web.smtp.messages if m.rcpt_tos == ["sam@ourco.com"]]
    mail = received.message
    assert (mail["From"], mail["To"]) == ("touchpoints@ourco.com", "sam@ourco.com")
    assert mail["Subject"] == "Your touchlog sign-in link"
    assert f"{BASE_URL}{path}" in mail.get_content()
    assert "15 minutes" in mail.get_content()
    for _ in range(2):  # a mail scanner fetching the link spends nothing
        shown = browser.get(path)
        assert shown.status_code == 200
        assert f'<form method="post" action="{path}">' in shown.text
        assert "<button" in shown.text
    assert browser.get("/accounts").status_code == 302  # not signed in by looking
    spent = web.post(browser, path, form_page=path)
    assert (spent.status_code, spent.headers["Location"]) == (303, "/")
    page = browser.get("/accounts")
    assert page.status_code == 200 and "Sam Seller" in page.text


def test_an_alias_gets_the_link_at_the_alias_and_signs_in_its_member(web):
    browser = web.signed_in("sam.alias@ourco.com")
    assert 'title="sam@ourco.com"' in browser.get("/accounts").text


@pytest.mark.parametrize("address", ["sam@ourco.com", "stranger@acme.com", "not an address",
                                     "", "x" * 5000 + "@ourco.com", "<script>@ourco.com"])
def test_the_answer_is_the_same_for_anyone(web, address):
    assert _answer(web, address) == _answer(web, "nobody@ourco.com")


def test_only_a_team_member_gets_a_mail(web):
    for address in ("stranger@acme.com", "nobody@ourco.com", "sam@ourco.com.evil.com"):
        web.ask_link(address)
    web.ask_link("ann@ourco.com")
    assert web.mails_to("ann@ourco.com")
    assert [m.rcpt_tos for m in web.smtp.messages] == [["ann@ourco.com"]]


def test_a_link_works_once(any_web):
    web = any_web
    first = web.client()
    web.ask_link("sam@ourco.com", first)
    path = web.link_path("sam@ourco.com")
    assert web.post(first, path, form_page=path).status_code == 303
    second = web.client()
    token = web.csrf(second)
    again = second.post(path, data={"csrf_token": token})
    assert again.status_code == 400
    assert "This link no longer works" in text_of(again)
    assert second.get("/accounts").status_code == 302
    assert second.get(path).status_code == 400  # and its page says so


def test_a_link_lasts_15_minutes(web):
    browser = web.client()
    web.ask_link("sam@ourco.com", browser)
    path = web.link_path("sam@ourco.com")
    web.now = utcnow() + timedelta(minutes=14, seconds=50)
    assert browser.get(path).status_code == 200
    web.now = utcnow() + timedelta(minutes=15, seconds=1)
    assert browser.get(path).status_code == 400
    assert web.post(browser, path, form_page="/login").status_code == 400
    assert browser.get("/accounts").status_code == 302


def test_a_made_up_link_signs_nobody_in(web):
    browser = web.client()
    for path in ("/login/link/x", "/login/link/" + "A" * 43, "/login/link/" + "A" * 500):
        assert web.post(browser, path, form_page="/login").status_code == 400
    assert browser.get("/accounts").status_code == 302


def test_a_link_of_a_member_who_left_signs_nobody_in(web):
    browser = web.client()
    web.ask_link("sam@ourco.com", browser)
    path = web.link_path("sam@ourco.com")
    web.import_team("\n".join(line for line in WEB_TEAM_CSV.splitlines()
                              if not line.startswith("sam@")) + "\n", "--replace")
    assert web.post(browser, path, form_page=path).status_code == 400
    assert browser.get("/accounts").status_code == 302


def test_at_most_5_links_per_member_an_hour(web):
    for i in range(4):
        web.ask_link("sam@ourco.com", environ_base={"REMOTE_ADDR": f"10.0.0.{i + 1}"})
    web.ask_link("sam.alias@ourco.com")  # an alias is the same member: the fifth
    assert _answer(web, "sam@ourco.com") == _answer(web, "nobody@ourco.com")  # the sixth
    assert len(web.mails_to("sam@ourco.com")) + len(web.mails_to("sam.alias@ourco.com")) == 5
    assert web.mails_to("ann@ourco.com") == []
    web.ask_link("ann@ourco.com")
    assert len(web.mails_to("ann@ourco.com")) == 1  # another member is not held back
    web.now = utcnow() + timedelta(hours=1, seconds=1)
    web.ask_link("sam@ourco.com")
    assert len(web.mails_to("sam@ourco.com")) == 5


def test_at_most_30_requests_per_client_address_an_hour(web):
    crowd = {"REMOTE_ADDR": "192.0.2.7"}
    browser = web.client()
    for i in range(30):
        web.ask_link(f"guess{i}@ourco.com", browser, environ_base=crowd)
    assert _answer(web, "sam@ourco.com", client=browser, environ_base=crowd) \
        == _answer(web, "nobody@ourco.com")
    assert web.mails_to("sam@ourco.com") == []
    web.ask_link("sam@ourco.com", environ_base={"REMOTE_ADDR": "192.0.2.8"})
    assert len(web.mails_to("sam@ourco.com")) == 1  # another client is not held back
    web.now = utcnow() + timedelta(hours=1, seconds=1)
    web.ask_link("ann@ourco.com", browser, environ_base=crowd)
    assert len(web.mails_to("ann@ourco.com")) == 1


def test_a_mail_server_that_is_down_changes_nothing_on_the_page(web):
    web.smtp.stop()
    try:
        assert _answer(web, "sam@ourco.com") == _answer(web, "nobody@ourco.com")
        web.app.extensions["touchlog"].mailer.drain()
    finally:
        web.smtp.start()
    web.ask_link("sam@ourco.com")
    assert len(web.mails_to("sam@ourco.com")) == 1  # the next request's mail goes


def test_a_signed_in_member_going_to_the_sign_in_page_is_sent_on(web):
    sam = web.signed_in("sam@ourco.com")
    assert sam.get("/login").headers["Location"] == "/"
    assert sam.get("/").headers["Location"] == "/accounts"


def test_the_oidc_button_shows_only_when_oidc_is_a_way_in(tmp_path, smtp_sink, monkeypatch):
    monkeypatch.setenv("TOUCHLOG_TEST_OIDC_SECRET", "s3cret-for-the-fake")
    default = WebWorld(tmp_path / "a", smtp_sink, metrics_token_env="")
    page = default.client().get("/login").text
    assert "/login/oidc" not in page and 'name="email"' in page
    both = WebWorld(tmp_path / "b", smtp_sink, metrics_token_env="", sign_in=["email", "oidc"],
                    oidc_issuer="https://idp.ourco.com", oidc_client_id="touchlog",
                    oidc_client_secret_env="TOUCHLOG_TEST_OIDC_SECRET")
    page = both.client().get("/login").text
    assert 'href="/login/oidc"' in page and 'name="email"' in page
    only = WebWorld(tmp_path / "c", smtp_sink, metrics_token_env="", sign_in=["oidc"],
                    oidc_issuer="https://idp.ourco.com", oidc_client_id="touchlog",
                    oidc_client_secret_env="TOUCHLOG_TEST_OIDC_SECRET")
    page = only.client().get("/login").text
    assert 'href="/login/oidc"' in page and 'name="email"' not in page
    assert only.ask_link("sam@ourco.com").status_code == 404
    assert only.mails_to("sam@ourco.com") == []
