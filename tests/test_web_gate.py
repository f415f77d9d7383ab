"""The gate every request passes (SPEC 21): who may see what without a session, the security
headers on every response, CSRF on every POST, the session cookie and its end, a member who
leaves or changes role, and hostile text shown as text."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from flask import Flask

from core.errors import NotFound
from core.utc import utcnow
from tests.web_world import HOSTILE, METRICS_TOKEN, WEB_TEAM_CSV, WebWorld, text_of
from web.gate import SESSION_COOKIE
from web.headers import SECURITY_HEADERS
from web.render import require_id

PAGES = ["/", "/accounts", "/accounts?q=acme", "/audit", "/no-such-page", "/accounts/ACME",
         "/touchpoints/1", "/review", "/tasks"]


@pytest.mark.parametrize("path", PAGES)
def test_without_a_session_a_page_redirects_to_the_sign_in_page(web, path):
    answer = web.client().get(path)
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/login"


@pytest.mark.parametrize("method, path", [("post", "/logout"), ("post", "/accounts"),
                                          ("post", "/touchpoints"), ("put", "/accounts"),
                                          ("delete", "/touchpoints/1"),
                                          ("post", "/review/7/assign")])
def test_without_a_session_anything_but_a_get_is_401(web, method, path):
    client = web.client()
    token = web.csrf(client)  # a valid pre-session token changes nothing: 401 first
    answer = getattr(client, method)(path, data={"csrf_token": token})
    assert answer.status_code == 401
    assert "Sign in first" in text_of(answer)


@pytest.mark.parametrize("path, status", [("/login", 200), ("/healthz", 200),
                                          ("/static/touchlog.css", 200),
                                          ("/static/htmx.min.js", 200),
                                          ("/login/link/not-a-token", 400), ("/metrics", 404)])
def test_the_open_paths_answer_without_a_session(web, path, status):
    assert web.client().get(path).status_code == status


def _responses(web: WebWorld) -> dict[str, object]:
    """One response of every kind the app gives."""
    anon, sam = web.client(), web.signed_in("sam@ourco.com")
    bearer = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    tp = web.plant_hostile()
    return {
        "timeline": sam.get("/accounts/ACME"), "touchpoint": sam.get(f"/touchpoints/{tp}"),
        "download": sam.get(f"/touchpoints/{tp}/attachments/1"),
        "add form": sam.get("/touchpoints/new?account=ACME"),
        "confirm": web.post(sam, f"/touchpoints/{tp}/send", {"to": "external"},
                            form_page=f"/touchpoints/{tp}"),
        "added": web.post(sam, "/touchpoints", {"account": "ACME", "type": "email"},
                          form_page="/touchpoints/new?account=ACME"),
        "redirect": anon.get("/accounts"), "sign-in page": anon.get("/login"),
        "401": anon.post("/logout"), "csrf 400": sam.post("/logout"),
        "page": sam.get("/accounts"), "404": sam.get("/no-such-page"),
        "403": sam.get("/audit"), "400": sam.get("/accounts?q=" + "x" * 201),
        "405": sam.put("/accounts", headers={"X-CSRFToken": web.csrf(sam, "/accounts")}),
        "css": anon.get("/static/touchlog.css"),
        "js": anon.get("/static/htmx.min.js"), "healthz": anon.get("/healthz"),
        "metrics 404": anon.get("/metrics"), "metrics": anon.get("/metrics", headers=bearer),
        "link sent": web.ask_link("sam@ourco.com"),
        "sign-out": web.post(sam, "/logout"),
    }


def test_every_response_sends_the_security_headers(web):
    responses = _responses(web)
    expected = {"403": 403, "404": 404, "400": 400, "401": 401, "405": 405, "csrf 400": 400,
                "metrics 404": 404, "redirect": 302, "sign-out": 303, "added": 303}
    for name, answer in responses.items():
        assert answer.status_code == expected.get(name, 200), name
        for header, value in SECURITY_HEADERS.items():
            assert answer.headers.get(header) == value, (name, header)
    assert responses["page"].headers["Cache-Control"] == "no-store"
    assert SECURITY_HEADERS == {"Content-Security-Policy": "default-src 'self'",
                                "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
                                "Referrer-Policy": "same-origin"}


def test_pages_hold_no_inline_script_or_style(web):
    """The CSP forbids them: a page that used one would break in the browser."""
    sam = web.signed_in("ann@ourco.com")
    tp = web.plant_hostile()
    for path in ("/login", "/accounts", "/audit", "/no-such-page", "/accounts/ACME",
                 f"/touchpoints/{tp}", "/touchpoints/new?account=ACME"):
        page = (web.client() if path == "/login" else sam).get(path).text
        found = _Markup()
        found.feed(page)
        assert "style" not in found.tags and not found.styled, path
        assert found.handlers == [], path  # onclick= …
        assert found.scripts == [[("src", "/static/htmx.min.js"), ("defer", None)]], path


class _Markup(HTMLParser):
    """What a browser would see: the tags, style attributes, on… handlers and scripts (an
    attribute's value is text, however much it looks like markup)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.styled: list[str] = []
        self.handlers: list[str] = []
        self.scripts: list[list[tuple[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.styled += [tag for name, _ in attrs if name == "style"]
        self.handlers += [name for name, _ in attrs if name.startswith("on")]
        if tag == "script":
            self.scripts.append(attrs)


def test_a_post_without_the_csrf_token_is_400_and_changes_nothing(any_web):
    web = any_web
    sam = web.signed_in("sam@ourco.com")
    for data in ({}, {"csrf_token": ""}, {"csrf_token": "0" * 64}):
        answer = sam.post("/logout", data=data)
        assert answer.status_code == 400
        assert "csrf_token" in text_of(answer)
    assert sam.get("/accounts").status_code == 200  # still signed in
    other = web.client()  # another visitor's token is no good either
    assert sam.post("/logout", data={"csrf_token": web.csrf(other)}).status_code == 400
    assert sam.get("/accounts").status_code == 200
    header = sam.post("/logout", headers={"X-CSRFToken": web.csrf(sam, "/accounts")})
    assert header.status_code == 303  # htmx sends the header instead of the field
    assert sam.get("/accounts").status_code == 302


def test_the_sign_in_form_needs_its_token_too(web):
    answer = web.client().post("/login/email", data={"email": "sam@ourco.com"})
    assert answer.status_code == 400
    assert web.mails_to("sam@ourco.com") == []


def _session_cookie(answer) -> str:
    [cookie] = [c for c in answer.headers.getlist("Set-Cookie")
                if c.startswith(SESSION_COOKIE + "=")]
    return cookie


def test_the_session_cookie_is_httponly_and_samesite_lax(web):
    client = web.client()
    web.ask_link("sam@ourco.com", client)
    path = web.link_path("sam@ourco.com")
    cookie = _session_cookie(web.post(client, path, form_page=path))
    flags = [part.strip() for part in cookie.split(";")]
    assert "HttpOnly" in flags and "SameSite=Lax" in flags and "Path=/" in flags
    assert "Secure" not in flags  # base_url is http://
    assert "Max-Age=28800" in flags  # session_hours = 8


def test_the_session_cookie_is_secure_when_people_open_https(tmp_path, smtp_sink):
    web = WebWorld(tmp_path, smtp_sink, base_url="https://touchlog.ourco.com",
                   metrics_token_env="")
    client = web.client()
    web.ask_link("sam@ourco.com", client)
    path = web.link_path("sam@ourco.com")
    assert web.mails_to("sam@ourco.com")[0].count("https://touchlog.ourco.com/login/link/") == 1
    answer = web.post(client, path, form_page=path)
    assert "Secure" in [part.strip() for part in _session_cookie(answer).split(";")]
    assert answer.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_logout_ends_the_session_for_good(any_web):
    web = any_web
    sam = web.signed_in("sam@ourco.com")
    value = sam.get_cookie(SESSION_COOKIE).value
    answer = web.post(sam, "/logout")
    assert (answer.status_code, answer.headers["Location"]) == (303, "/login")
    assert _session_cookie(answer).startswith(f"{SESSION_COOKIE}=;")  # cleared
    assert sam.get("/accounts").status_code == 302
    replay = web.client()
    replay.set_cookie(SESSION_COOKIE, value)  # the old cookie, kept by someone
    assert replay.get("/accounts").status_code == 302
    assert replay.post("/logout").status_code == 401


def test_a_session_ends_after_session_hours(web):
    sam = web.signed_in("sam@ourco.com")
    web.now = utcnow() + timedelta(hours=7, minutes=59)
    assert sam.get("/accounts").status_code == 200
    web.now = utcnow() + timedelta(hours=8, seconds=1)
    assert sam.get("/accounts").status_code == 302


def test_a_member_removed_from_the_team_is_signed_out_on_their_next_request(any_web):
    web = any_web
    sam, ann = web.signed_in("sam@ourco.com"), web.signed_in("ann@ourco.com")
    assert sam.get("/accounts").status_code == 200
    without_sam = "\n".join(line for line in WEB_TEAM_CSV.splitlines()
                            if not line.startswith("sam@")) + "\n"
    web.import_team(without_sam, "--replace")
    answer = sam.get("/accounts")
    assert (answer.status_code, answer.headers["Location"]) == (302, "/login")
    assert _session_cookie(answer).startswith(f"{SESSION_COOKIE}=;")
    assert sam.post("/logout").status_code == 401
    assert ann.get("/accounts").status_code == 200
    web.import_team(WEB_TEAM_CSV)  # back on the team: a new sign-in, not the old session
    assert sam.get("/accounts").status_code == 302


def test_a_role_change_takes_effect_at_once(web):
    sam, ann = web.signed_in("sam@ourco.com"), web.signed_in("ann@ourco.com")
    assert sam.get("/audit").status_code == 403
    assert ann.get("/audit").status_code == 200
    swapped = WEB_TEAM_CSV.replace("Sam Seller,user", "Sam Seller,admin") \
        .replace("Ann Admin,admin", "Ann Admin,user")
    web.import_team(swapped)
    assert sam.get("/audit").status_code == 200
    assert 'href="/audit"' in sam.get("/accounts").text  # the admins' entry in the menu
    refused = ann.get("/audit")
    assert refused.status_code == 403
    assert "ann@ourco.com may not read the audit trail: only an admin (sam@ourco.com) may" \
        in text_of(refused)
    assert 'href="/audit"' not in ann.get("/accounts").text


def test_hostile_names_are_shown_as_text(web):
    eve = web.signed_in("eve@ourco.com")
    for page in (eve.get("/accounts"), eve.get("/accounts?q=" + HOSTILE)):
        assert page.status_code == 200
        assert "<script>" not in page.text and "<img" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" \
            in page.text
        assert HOSTILE in text_of(page)  # the member's name, the account's name, the query


def test_an_unknown_page_is_404_and_a_wrong_method_405(web):
    sam = web.signed_in("sam@ourco.com")
    assert sam.get("/no-such-page").status_code == 404
    assert "There is no such page." in text_of(sam.get("/no-such-page"))
    assert web.post(sam, "/accounts").status_code == 405


@pytest.mark.parametrize("text", ["0", "-1", "+7", " 7", "7 ", "1_000", "٣", "²", "0x10", "07",
                                  "9223372036854775808", "", "abc"])
def test_an_id_that_names_nothing_is_404(text):
    with pytest.raises(NotFound, match="no touchpoint"):
        require_id(text, "touchpoint")


def test_an_id_is_a_plain_number(web):
    app: Flask = web.app
    with app.test_request_context():
        assert require_id("9223372036854775807", "task") == 2**63 - 1
        assert require_id("12", "task") == 12
