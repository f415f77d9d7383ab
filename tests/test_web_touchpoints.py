"""`/touchpoints…` (SPEC 21) over HTTP: every route for every role (anonymous, the creator,
another member, an admin, a departed member), then each page's own behaviour: what `show` and
`explain` say, attachments as downloads, adding with files, hostile text, the audit trail."""

from __future__ import annotations

import json
import re
from io import BytesIO

import pytest

from tests.web_world import (
    CONTROLS,
    HOSTILE,
    WEB_TEAM_CSV,
    WebWorld,
    headings_skip,
    text_of,
    unlabelled,
)

REFUSED = ("eve@ourco.com may not {verb} touchpoint {id}: only its creator (sam@ourco.com) "
           "or an admin (ann@ourco.com) may")
# route: (method, path, form, action audited, verb the CLI refuses to another member)
ROUTES = {
    "view": ("GET", "/touchpoints/{id}", None, "view", None),
    "download": ("GET", "/touchpoints/{id}/attachments/1", None, "download", None),
    "new": ("GET", "/touchpoints/new?account=ACME", None, None, None),
    "add": ("POST", "/touchpoints", {"account": "ACME", "type": "telephone_call"}, "add", None),
    "edit": ("POST", "/touchpoints/{id}/edit", {"subject": "Renewal (signed)"}, "edit", "edit"),
    "delete": ("POST", "/touchpoints/{id}/delete", {}, "delete", "delete"),
    "send": ("POST", "/touchpoints/{id}/send", {"to": "me"}, "send", None),
}


def _with_file(web: WebWorld, *args: str) -> int:
    path = web.folder / "quote.pdf"
    path.write_bytes(b"%PDF-1.4 a quote")
    return web.add("ACME", "sam@ourco.com", "telephone_call", "--subject", "Renewal",
                   "--participant", "wile@acme.com", "--attach", str(path), *args)


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_every_route_for_every_role(any_web, route):
    web = any_web
    method, path, form, action, refused_verb = ROUTES[route]
    web.import_team(WEB_TEAM_CSV + "dan@ourco.com,Dan Departed,user,\n")
    dan = web.signed_in("dan@ourco.com")
    web.import_team(WEB_TEAM_CSV, "--replace")
    for who in (None, dan):
        client = who or web.client()
        tp = _with_file(web)
        url = path.format(id=tp)
        answer = client.get(url) if method == "GET" else client.post(url, data=form)
        if method == "GET":
            assert (answer.status_code, answer.headers["Location"]) == (302, "/login")
        else:
            assert answer.status_code == 401
    for address in ("sam@ourco.com", "eve@ourco.com", "ann@ourco.com"):
        client = web.signed_in(address)
        tp = _with_file(web)
        url = path.format(id=tp)
        before = len(web.audit())
        answer = client.get(url) if method == "GET" else \
            web.post(client, url, form, form_page=f"/touchpoints/{tp}")
        rows = web.audit()[:len(web.audit()) - before]
        if refused_verb and address == "eve@ourco.com":
            assert answer.status_code == 403, (route, address)
            assert REFUSED.format(verb=refused_verb, id=tp) in text_of(answer)
            assert [r["action"] for r in rows] == ["view"]  # the form page only
            continue
        assert answer.status_code == (200 if method == "GET" else 303), (route, address)
        if action is None:
            continue
        mine = [r for r in rows if r["action"] == action]
        assert [r["member"] for r in mine] == [address], (route, rows)
        target = int(answer.headers["Location"].rsplit("/", 1)[1]) if route == "add" else tp
        assert mine[0]["object"] == (f"touchpoint {target} attachment 1"
                                     if route == "download" else f"touchpoint {target}")


@pytest.mark.parametrize("path", ["/touchpoints/0", "/touchpoints/abc", "/touchpoints/99",
                                  "/touchpoints/9223372036854775808", "/touchpoints/-1",
                                  "/touchpoints/1/attachments/0", "/touchpoints/1/attachments/2",
                                  "/touchpoints/1/attachments/x",
                                  "/touchpoints/new?account=NOPE"])
def test_an_id_that_names_nothing_is_404(web, path):
    _with_file(web)
    assert web.signed_in("sam@ourco.com").get(path).status_code == 404


def test_the_page_shows_the_touchpoint_whole_as_show_does(web):
    first = web.mail(subject="Quote", participants=(
        {"email": "wile@acme.com", "name": "Wile E.", "role": "external"},))
    reply = web.mail(subject="Re: Quote", parent=first)
    path = web.folder / "notes.txt"
    path.write_text("call notes")
    web.touchlog("import", "users", str(_users(web)))
    manual = web.add("ACME", "sam@ourco.com", "telephone_call", "--subject", "Call",
                     "--content", "Wile agreed.\nSigned Monday.", "--reason", "Renewal",
                     "--participant", "Wile E. <wile@acme.com>", "--attach", str(path),
                     "--date", "2026-11-02T14:30Z")
    sam = web.signed_in("sam@ourco.com")
    page = sam.get(f"/touchpoints/{manual}")
    words = text_of(page)
    for expected in ("Touchpoint " + str(manual), "Acme Corp ( ACME )", "Telephone call",
                     "2026-11-02 14:30", "Renewal", "sam@ourco.com", "Source manual",
                     "wile@acme.com Wile E. external", "notes.txt text/plain, 10 bytes"):
        assert expected in words, expected
    assert '<div class="content">Wile agreed.\nSigned Monday.</div>' in page.text
    assert f'href="/touchpoints/{manual}/attachments/1" download>notes.txt</a>' in page.text
    assert (f"touchpoint {manual} on account ACME was added by hand by sam@ourco.com at "
            in words and "no mail, so no resolution trace" in words)
    thread = text_of(sam.get(f"/touchpoints/{first}"))
    assert "Replies" in thread and "Re: Quote" in thread
    answer = text_of(sam.get(f"/touchpoints/{reply}"))
    assert f"a reply in the thread of touchpoint {first}" in answer


def _users(web: WebWorld):
    from tests.builders import USERS_CSV

    path = web.folder / "users-again.csv"
    path.write_text(USERS_CSV)
    return path


def test_the_explain_trace_of_a_logged_mail_is_shown_in_words(web):
    from poller.decide.explained import explain_touchpoint
    from store.ledger.models import MessageRecord
    from store.models import Touchpoint

    tp = web.mail(subject="Hello")
    trace = {"candidates": [{"address": "wile@acme.com"}],
             "steps": [{"rule": "contact", "address": "wile@acme.com", "result": "contact",
                        "accounts": [{"account_id": "ACME", "last_activity": "2026-01-10"}]}],
             "account_id": "ACME", "rule": "contact", "names": {"ACME": "Acme Corp"}}
    MessageRecord.create(key="k-hello", message_id="hello@ourco.com", outcome="logged",
                         reason="contact", sender="sam@ourco.com", subject="Hello",
                         touchpoint=tp, trace=trace, mailbox="INBOX", uid=1)
    words = text_of(web.signed_in("eve@ourco.com").get(f"/touchpoints/{tp}"))
    explained = explain_touchpoint(Touchpoint.get_by_id(tp))
    for line in explained.head + explained.steps:
        assert line in words, line
    assert "wile@acme.com is a contact of 1 account: Acme Corp → rule contact" in words
    assert "decided: Acme Corp (ACME) by rule contact" in words


def test_a_deleted_touchpoint_says_by_whom_and_when_and_offers_no_change(web):
    from datetime import datetime

    tp = _with_file(web)
    web.now = datetime(2026, 11, 5, 16, 20)
    ann = web.signed_in("ann@ourco.com")
    assert web.post(ann, f"/touchpoints/{tp}/delete",
                    form_page=f"/touchpoints/{tp}").status_code == 303
    page = ann.get(f"/touchpoints/{tp}")
    assert page.status_code == 200
    assert "Deleted by ann@ourco.com at 2026-11-05 16:20 UTC." in text_of(page)
    shown = json.loads(web.touchlog("touchpoints", "show", str(tp), "--format", "json"))
    assert (shown["deleted_by"], shown["deleted_at"]) == ("ann@ourco.com", "2026-11-05T16:20:00Z")
    for action in ("edit", "delete", "send"):
        assert f'action="/touchpoints/{tp}/{action}"' not in page.text
    again = web.post(ann, f"/touchpoints/{tp}/delete", form_page=f"/touchpoints/{tp}")
    assert again.status_code == 400
    assert f"touchpoint {tp} was deleted by ann@ourco.com at 2026-11-05T16:20:00Z" \
        in text_of(again)


def test_controls_show_only_where_allowed(web):
    tp = _with_file(web)
    forms = {who: web.signed_in(who).get(f"/touchpoints/{tp}").text
             for who in ("sam@ourco.com", "eve@ourco.com", "ann@ourco.com")}
    for who, page in forms.items():
        may = who != "eve@ourco.com"
        assert (f'action="/touchpoints/{tp}/edit"' in page) is may, who
        assert (f'action="/touchpoints/{tp}/delete"' in page) is may, who
        assert f'action="/touchpoints/{tp}/send"' in page, who  # anyone on the team may send
    assert ("Only its creator (sam@ourco.com) or an admin may edit or delete it."
            in text_of_page(forms["eve@ourco.com"]))


def text_of_page(html_text: str) -> str:
    import html as html_module

    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", html_text)).split())


# --- attachments -----------------------------------------------------------------------------


def test_an_attachment_is_a_download_with_a_safe_name_and_type(any_web):
    web = any_web
    tp = web.plant_hostile()
    sam = web.signed_in("sam@ourco.com")
    answer = sam.get(f"/touchpoints/{tp}/attachments/1")
    assert answer.status_code == 200
    assert answer.data == b"<script>alert(3)</script>"
    assert answer.headers["Content-Type"] == "application/octet-stream"  # stored: text/html
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    disposition = answer.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="')
    name = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert not re.search(r'[<>"/\\\x00-\x1f\x7f]', name) and name.endswith(".html")
    assert "\u202e" not in disposition and "\x1b" not in disposition
    assert web.audit()[0] == {**web.audit()[0], "member": "sam@ourco.com",
                              "action": "download", "object": f"touchpoint {tp} attachment 1"}
    pdf = _with_file(web)
    answer = sam.get(f"/touchpoints/{pdf}/attachments/1")
    assert answer.headers["Content-Type"] == "application/pdf"
    assert answer.headers["Content-Disposition"] == 'attachment; filename="quote.pdf"'


def test_an_attachment_no_longer_kept_is_404(web):
    import shutil

    tp = _with_file(web)
    shutil.rmtree(web.settings.attachments_path())
    answer = web.signed_in("sam@ourco.com").get(f"/touchpoints/{tp}/attachments/1")
    assert answer.status_code == 404
    assert f"attachment 1 of touchpoint {tp} is no longer kept" in text_of(answer)


# --- adding ----------------------------------------------------------------------------------


def test_adding_by_the_form_makes_what_the_cli_would_with_the_member_as_author(any_web):
    web = any_web
    eve = web.signed_in("eve@ourco.com")
    form = web.csrf(eve, "/touchpoints/new?account=ACME")
    answer = eve.post("/touchpoints", data={
        "csrf_token": form, "account": "ACME", "type": "web_meeting",
        "date": "2026-11-02T15:00", "subject": "  Kick-off   call ", "content": "Agenda\r\nOK",
        "flow": "Onboarding", "reason": ["Renewal", "", "Upsell"],
        "participant": ["Wile E. <wile@acme.com>", "ann@ourco.com", ""],
        "attach": [(BytesIO(b"%PDF-1.4"), "plan.pdf"), (BytesIO(b""), "")],
    }, content_type="multipart/form-data")
    assert answer.status_code == 303
    tp = int(answer.headers["Location"].rsplit("/", 1)[1])
    assert answer.headers["Location"].endswith(f"/touchpoints/{tp}")
    shown = json.loads(web.touchlog("touchpoints", "show", str(tp), "--format", "json"))
    assert {k: shown[k] for k in ("account_id", "type", "occurred_at", "subject", "content",
                                  "flow", "reasons", "creator", "source")} == {
        "account_id": "ACME", "type": "web_meeting", "occurred_at": "2026-11-02T15:00:00Z",
        "subject": "Kick-off call", "content": "Agenda\nOK", "flow": "Onboarding",
        "reasons": ["Renewal", "Upsell"], "creator": "eve@ourco.com", "source": "manual"}
    assert [(p["email"], p["name"], p["role"]) for p in shown["participants"]] == [
        ("wile@acme.com", "Wile E.", "external"), ("ann@ourco.com", "", "internal")]
    assert [(a["filename"], a["content_type"], a["size"]) for a in shown["attachments"]] == [
        ("plan.pdf", "application/pdf", 8)]
    assert web.audit()[0]["action"] == "add" and web.audit()[0]["object"] == f"touchpoint {tp}"


def test_a_form_that_leaves_date_out_means_now(web):
    from datetime import datetime

    web.now = datetime(2026, 11, 6, 8, 15, 30)
    sam = web.signed_in("sam@ourco.com")
    answer = web.post(sam, "/touchpoints", {"account": "ACME", "type": "internal_note",
                                            "date": ""}, form_page="/touchpoints/new?account=ACME")
    tp = answer.headers["Location"].rsplit("/", 1)[1]
    shown = json.loads(web.touchlog("touchpoints", "show", tp, "--format", "json"))
    assert shown["occurred_at"] == "2026-11-06T08:15:30Z"


@pytest.mark.parametrize("form, expected", [
    ({}, "account: required"),
    ({"account": "ACME"}, "type: required: one of web_meeting"),
    ({"account": "ACME", "type": "fax"}, "type: 'fax' is not one of touchpoints.types"),
    ({"account": "ACME", "type": "email", "date": "soon"}, "date: 'soon' is not a date"),
    ({"account": "ACME", "type": "email", "participant": "not-an-address"},
     "participant 'not-an-address' is not an email address"),
    ({"account": "ACME", "type": "email", "content": "x" * 20_001},
     "content: 20001 characters; at most 20000 (touchpoints.max_content_chars)"),
])
def test_a_bad_field_is_400_naming_it_and_nothing_is_added(web, form, expected):
    sam = web.signed_in("sam@ourco.com")
    answer = web.post(sam, "/touchpoints", {"subject": "Kept as typed", **form},
                      form_page="/touchpoints/new?account=ACME")
    assert answer.status_code == 400
    assert expected in text_of(answer)
    if "account" in form:  # the form again, as typed
        assert 'value="Kept as typed"' in answer.text
    assert web.touchlog("touchpoints", "--format", "json").strip() == "[]"


def test_adding_to_an_unknown_or_removed_account_is_refused(web):
    sam = web.signed_in("sam@ourco.com")
    unknown = web.post(sam, "/touchpoints", {"account": "NOPE", "type": "email"},
                       form_page="/touchpoints/new?account=ACME")
    assert unknown.status_code == 404 and "no account 'NOPE'" in text_of(unknown)
    path = web.folder / "fewer.csv"
    path.write_text("account_id,name\nACME,Acme Corp\n")
    web.touchlog("import", "accounts", str(path), "--replace")
    removed = web.post(sam, "/touchpoints", {"account": "ROAD", "type": "email"},
                       form_page="/touchpoints/new?account=ACME")
    assert removed.status_code == 400
    assert "account 'ROAD' was removed from the directory" in text_of(removed)
    assert sam.get("/touchpoints/new?account=ROAD").status_code == 400


def test_the_add_form_is_labelled_and_reads_on_a_phone(web):
    page = web.signed_in("sam@ourco.com").get("/touchpoints/new?account=ACME").text
    assert unlabelled(page) == [] and 'id="type"' in page
    names = set(re.findall(r'name="([a-z_]+)"', page))
    assert {"account", "type", "date", "subject", "content", "flow", "reason", "participant",
            "attach", "csrf_token"} <= names
    assert 'enctype="multipart/form-data"' in page
    assert headings_skip(page) == []


# --- hostile text ----------------------------------------------------------------------------


def test_hostile_text_shows_as_text_on_every_touchpoint_page(web):
    tp = web.plant_hostile()
    eve = web.signed_in("eve@ourco.com")  # her own name is hostile too
    uploaded = web.post(eve, "/touchpoints", {
        "account": "EVIL", "type": "email", "subject": HOSTILE + CONTROLS,
        "content": HOSTILE + CONTROLS, "participant": f'"{HOSTILE}" <x@evil.com>',
        "attach": [(BytesIO(b"<svg onload=alert(4)>"), f"{HOSTILE}{CONTROLS}.svg")],
    }, form_page="/touchpoints/new?account=EVIL", content_type="multipart/form-data")
    assert uploaded.status_code == 303
    mine = uploaded.headers["Location"].rsplit("/", 1)[1]
    pages = [eve.get(f"/touchpoints/{tp}"), eve.get(f"/touchpoints/{mine}"),
             eve.get("/accounts/EVIL"), eve.get("/touchpoints/new?account=EVIL"),
             web.post(eve, f"/touchpoints/{mine}/send", {"to": "external"},
                      form_page=f"/touchpoints/{mine}"),  # the confirmation page
             eve.get("/accounts/ACME?type=" + HOSTILE)]  # an error page quoting the input
    for page in pages:
        assert page.status_code in (200, 400), page.status_code
        assert "<script>alert" not in page.text and "<img src=x" not in page.text
        assert "<svg onload" not in page.text
        assert "\x1b" not in page.text and "\u202e" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "\\x1b[2J\\u202eevil" in pages[0].text
    download = eve.get(f"/touchpoints/{mine}/attachments/1")
    assert download.headers["Content-Type"] == "application/octet-stream"
    assert "<" not in download.headers["Content-Disposition"]


def test_the_touchpoint_page_is_labelled_with_headings_in_order(web):
    tp = _with_file(web)
    for who in ("ann@ourco.com", "eve@ourco.com"):
        page = web.signed_in(who).get(f"/touchpoints/{tp}").text
        assert unlabelled(page) == [] and headings_skip(page) == []
        assert 'data-label="Address"' in page and '<table class="cards">' in page


def test_with_encryption_on_an_upload_is_sealed_on_disk_and_downloads_whole(tmp_path, smtp_sink,
                                                                            monkeypatch):
    import os

    from store.encryption.keyring import new_key
    from tests.web_world import METRICS_ENV, METRICS_TOKEN

    monkeypatch.setenv(METRICS_ENV, METRICS_TOKEN)
    keys = tmp_path / "keys"
    keys.write_text(new_key() + "\n")
    os.chmod(keys, 0o600)
    web = WebWorld(tmp_path / "site", smtp_sink, database={"encryption_key_file": str(keys)})
    sam = web.signed_in("sam@ourco.com")
    secret = b"CANARY-7f3a quote bytes " * 20
    added = web.post(sam, "/touchpoints", {
        "account": "ACME", "type": "email", "subject": "Quote",
        "attach": [(BytesIO(secret), "CANARY-7f3a.pdf")]},
        form_page="/touchpoints/new?account=ACME", content_type="multipart/form-data")
    tp = added.headers["Location"].rsplit("/", 1)[1]
    on_disk = b"".join(p.read_bytes() for p in web.settings.attachments_path().rglob("*")
                       if p.is_file())
    assert on_disk and b"CANARY-7f3a" not in on_disk
    page = sam.get(f"/touchpoints/{tp}")
    assert "CANARY-7f3a.pdf" in text_of(page)
    answer = sam.get(f"/touchpoints/{tp}/attachments/1")
    assert answer.status_code == 200 and answer.data == secret
    assert answer.headers["Content-Disposition"] == 'attachment; filename="CANARY-7f3a.pdf"'
