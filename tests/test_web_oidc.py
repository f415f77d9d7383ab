"""Sign-in by OpenID Connect through the web app (SPEC 21): `GET /login/oidc` and
`GET /login/oidc/callback` against the local fake provider over HTTPS (tests/fake_oidc.py), as a
browser goes: to the provider, back with a code, and on to the accounts with a session. Every
refusal is the sign-in page with the reason, 403, and no session. tests/test_oidc.py checks each
bad ID token against web/signin/oidc.py itself; these check the routes around it."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from flask.testing import FlaskClient

from tests.fake_oidc import FakeOidc
from tests.review_world import assert_safe
from tests.web_world import BASE_URL, WebWorld, text_of
from web.signin.oidc_login import PENDING_COOKIE

SECRET_ENV = "TOUCHLOG_TEST_OIDC_SECRET"
CALLBACK = BASE_URL + "/login/oidc/callback"


@pytest.fixture
def fake() -> Iterator[FakeOidc]:
    fake = FakeOidc(redirect_uris=[CALLBACK]).start()
    yield fake
    fake.stop()


def oidc_world(folder, smtp_sink, monkeypatch, fake: FakeOidc, **options) -> WebWorld:
    monkeypatch.setenv(SECRET_ENV, fake.client_secret)
    return WebWorld(folder, smtp_sink, sign_in=["email", "oidc"], oidc_issuer=fake.issuer,
                    oidc_client_id=fake.client_id, oidc_client_secret_env=SECRET_ENV,
                    oidc_ca_file=fake.ca_file, metrics_token_env="", **options)


@pytest.fixture
def oweb(tmp_path, smtp_sink, monkeypatch, fake) -> WebWorld:
    return oidc_world(tmp_path, smtp_sink, monkeypatch, fake)


def at_provider(browser: FlaskClient, fake: FakeOidc) -> str:
    """GET /login/oidc, then the provider's redirect back: the callback's path and query."""
    start = browser.get("/login/oidc")
    assert start.status_code == 302, start.text
    assert start.headers["Location"].startswith(fake.issuer + "/authorize?")
    answer = requests.get(start.headers["Location"], verify=fake.ca_file,
                          allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    back = answer.headers["Location"]
    assert back.startswith(CALLBACK + "?")
    return back.removeprefix(BASE_URL)


def signed_in_now(browser: FlaskClient) -> bool:
    return browser.get("/accounts").status_code == 200


def test_a_member_signs_in_and_lands_on_the_accounts_with_a_session(oweb, fake):
    browser = oweb.client()
    assert 'href="/login/oidc"' in browser.get("/login").text
    done = browser.get(at_provider(browser, fake))
    assert done.status_code == 303 and done.headers["Location"] == "/"
    assert "HttpOnly" in done.headers.get("Set-Cookie", "")
    page = browser.get("/", follow_redirects=True)
    assert page.status_code == 200 and page.request.path == "/accounts"
    assert "Sam Seller" in text_of(page)  # the signed-in member's name in the bar
    rows = oweb.audit()
    assert [(r["member"], r["action"], r["object"]) for r in rows] == \
        [("sam@ourco.com", "sign_in", "oidc")]


def test_the_pending_sign_in_is_a_signed_cookie_for_the_oidc_routes_only(oweb, fake):
    browser = oweb.client()
    start = browser.get("/login/oidc")
    cookie = next(c for c in start.headers.getlist("Set-Cookie")
                  if c.startswith(PENDING_COOKIE + "="))
    for part in ("HttpOnly", "SameSite=Lax", "Path=/login/oidc", "Max-Age=600"):
        assert part in cookie, cookie
    assert "Secure" not in cookie  # base_url is http:// here
    query = parse_qs(urlsplit(start.headers["Location"]).query)
    verifier_free = cookie.split(";")[0]
    assert query["state"][0] and query["code_challenge"][0] not in verifier_free
    # Anyone may read what a cookie holds, nobody may write one: a forged one is no sign-in.
    forged = oweb.client()
    forged.set_cookie(PENDING_COOKIE, "eyJzdGF0ZSI6ImFiYyJ9.forged.sig", path="/login/oidc")
    answer = forged.get("/login/oidc/callback?" + urlencode({"state": "abc", "code": "x"}))
    assert answer.status_code == 403
    assert "this browser did not start a sign-in" in text_of(answer)


def test_an_alias_signs_in_as_its_member(oweb, fake):
    fake.user["email"] = "sam.alias@ourco.com"
    browser = oweb.client()
    assert browser.get(at_provider(browser, fake)).status_code == 303
    assert oweb.audit()[0]["member"] == "sam@ourco.com"


@pytest.mark.parametrize("script, words", [
    ({"email": "stranger@ourco.com"}, "stranger@ourco.com is not a member of the team."),
    ({"nonce": "another-sign-in"}, "Sign-in refused:"),
    ({"email_verified": False}, "Sign-in refused:"),
    ({"aud": "someone-else"}, "issued for another application."),
])
def test_a_refused_token_is_the_sign_in_page_with_403_and_no_session(oweb, fake, script, words):
    fake.claims.update(script)
    browser = oweb.client()
    answer = browser.get(at_provider(browser, fake))
    assert answer.status_code == 403
    shown = text_of(answer)
    assert words in shown and "Sign in to touchlog" in shown
    assert 'name="email"' in answer.text and 'href="/login/oidc"' in answer.text  # try again
    assert "eyJ" not in answer.text and fake.client_secret not in answer.text
    assert not signed_in_now(browser)
    assert oweb.audit() == []


def test_a_departed_member_is_refused(oweb, fake):
    oweb.import_team("email,name,role\nann@ourco.com,Ann Admin,admin\n", "--replace")
    browser = oweb.client()
    answer = browser.get(at_provider(browser, fake))
    assert answer.status_code == 403
    assert "sam@ourco.com is not a member of the team." in text_of(answer)
    assert not signed_in_now(browser)


def test_a_callback_whose_state_is_not_this_browsers_is_refused(oweb, fake):
    browser = oweb.client()
    back = urlsplit(at_provider(browser, fake))
    query = {k: v[0] for k, v in parse_qs(back.query).items()}
    answer = browser.get(back.path + "?" + urlencode({**query, "state": "someone-elses"}))
    assert answer.status_code == 403
    assert "does not belong to the sign-in this browser started" in text_of(answer)
    assert not signed_in_now(browser)


def test_a_callback_in_another_browser_is_refused(oweb, fake):
    """Login CSRF: an attacker's own code and state, brought to a victim's browser."""
    attacker = oweb.client()
    back = at_provider(attacker, fake)
    victim = oweb.client()
    answer = victim.get(back)
    assert answer.status_code == 403
    assert "this browser did not start a sign-in" in text_of(answer)
    assert not signed_in_now(victim)


def test_the_pending_sign_in_is_used_once(oweb, fake):
    browser = oweb.client()
    back = at_provider(browser, fake)
    first = browser.get(back)
    assert first.status_code == 303
    assert PENDING_COOKIE + "=;" in " ".join(first.headers.getlist("Set-Cookie"))  # dropped
    browser.post("/logout", data={"csrf_token": oweb.csrf(browser, "/accounts")})
    again = browser.get(back)
    assert again.status_code == 403 and not signed_in_now(browser)


def test_a_provider_that_turns_the_sign_in_down_is_403(oweb, fake):
    fake.deny = "access_denied"
    browser = oweb.client()
    answer = browser.get(at_provider(browser, fake))
    assert answer.status_code == 403
    assert "did not sign you in (access_denied)" in text_of(answer)


def test_an_unreachable_provider_is_403_with_words_at_the_start(oweb, fake):
    fake.down_status = 503
    answer = oweb.client().get("/login/oidc")
    assert answer.status_code == 403
    assert "try again later" in text_of(answer)


def test_signing_in_ends_the_session_the_browser_had(oweb, fake):
    browser = oweb.signed_in("ann@ourco.com")
    old = browser.get_cookie("touchlog_session").value
    assert browser.get(at_provider(browser, fake)).status_code == 303
    assert browser.get_cookie("touchlog_session").value != old
    assert [r["member"] for r in oweb.audit()] == ["sam@ourco.com", "ann@ourco.com"]


def test_without_oidc_in_sign_in_both_routes_are_404(web):
    assert web.client().get("/login/oidc").status_code == 404
    assert web.client().get("/login/oidc/callback?state=x&code=y").status_code == 404


def test_the_refusal_page_sends_the_security_headers(oweb, fake):
    fake.claims["email"] = "stranger@ourco.com"
    browser = oweb.client()
    assert_safe(browser.get(at_provider(browser, fake)), 403)
