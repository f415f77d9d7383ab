"""`POST /touchpoints/ID/edit|delete|send` (SPEC 21) over HTTP: what `touchlog touchpoints
edit|delete|send` does, with the signed-in member as `--as`; customers mailed only after a yes;
bad fields 400 naming them; CSRF; the audit rows. (Who may, route by route: test_web_touchpoints.)
"""

from __future__ import annotations

import html
import json
import re
from datetime import datetime

import pytest
from werkzeug.datastructures import MultiDict

from tests.web_world import WebWorld, text_of


def _show(web: WebWorld, tp: int) -> dict:
    return json.loads(web.touchlog("touchpoints", "show", str(tp), "--format", "json"))


def _mails(web: WebWorld, address: str) -> list:
    web.app.extensions["touchlog"].mailer.drain()
    return [m for m in web.smtp.messages if address in m.rcpt_tos
            and "sign-in" not in str(m.message["Subject"]).lower()]


def _hidden(page_text: str) -> list[tuple[str, str]]:
    """The confirmation form's hidden fields, as the browser would send them."""
    form = page_text.split('<section class="narrow confirm"', 1)[1]
    return [(html.unescape(n), html.unescape(v)) for n, v in
            re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form)]


def _call(web: WebWorld, *args: str) -> int:
    return web.add("ACME", "sam@ourco.com", "telephone_call", "--subject", "Renewal call",
                   "--content", "Wile agreed.", "--participant", "wile@acme.com",
                   "--participant", "ann@ourco.com", *args)


# --- edit --------------------------------------------------------------------------------------


def test_the_creator_edits_by_the_form_as_the_cli_would(any_web):
    web = any_web
    tp = _call(web, "--reason", "Renewal")
    sam = web.signed_in("sam@ourco.com")
    web.now = datetime(2026, 11, 6, 9, 30)
    answer = web.post(sam, f"/touchpoints/{tp}/edit", {
        "type": "web_meeting", "date": "2026-11-02T15:00", "subject": "Renewal  (signed)",
        "content": "Signed.\r\nMonday.", "flow": "Renewal", "reason": ["Upsell", ""],
        "add_participant": ["road@road.com", ""], "remove_participant": "ann@ourco.com",
        "notify": "none"}, form_page=f"/touchpoints/{tp}")
    assert (answer.status_code, answer.headers["Location"]) == (303, f"/touchpoints/{tp}")
    shown = _show(web, tp)
    assert {k: shown[k] for k in ("type", "occurred_at", "subject", "content", "flow",
                                  "reasons", "updated_at", "updated_by", "account_id")} == {
        "type": "web_meeting", "occurred_at": "2026-11-02T15:00:00Z",
        "subject": "Renewal (signed)", "content": "Signed.\nMonday.", "flow": "Renewal",
        "reasons": ["Upsell"], "updated_at": "2026-11-06T09:30:00Z", "updated_by": "sam@ourco.com",
        "account_id": "ACME"}
    assert [p["email"] for p in shown["participants"]] == ["wile@acme.com", "road@road.com"]
    assert web.changes()[0] == ("sam@ourco.com", "edit", f"touchpoint {tp}")


def test_the_form_sent_back_unchanged_but_one_field_changes_only_that_field(web):
    """The edit form shows every field; the ones left as shown are not rewritten, so a time's
    fractions and a stranger's control characters survive an edit of the subject."""
    from store.models import Touchpoint

    tp = web.mail(subject="Quote", when=datetime(2026, 11, 2, 14, 30, 5, 123456))
    Touchpoint.update(content="Hello \x1b[31m red", creator_email="sam@ourco.com").where(
        Touchpoint.id == tp).execute()
    sam = web.signed_in("sam@ourco.com")
    page = sam.get(f"/touchpoints/{tp}").text
    form = page.split(f'action="/touchpoints/{tp}/edit"', 1)[1].split("</form>", 1)[0]
    date = re.search(r'name="date" type="datetime-local" step="1" value="([^"]+)"', form)[1]
    content = html.unescape(re.search(r'name="content"[^>]*>\n(.*?)</textarea>', form, re.S)[1])
    assert (date, content) == ("2026-11-02T14:30:05", "Hello \\x1b[31m red")
    answer = web.post(sam, f"/touchpoints/{tp}/edit", {
        "type": "email", "date": date, "subject": "Quote v2", "content": content,
        "flow": "Default", "notify": "none"}, form_page=f"/touchpoints/{tp}")
    assert answer.status_code == 303
    row = Touchpoint.get_by_id(tp)
    assert (row.subject, row.content) == ("Quote v2", "Hello \x1b[31m red")
    assert row.occurred_at == datetime(2026, 11, 2, 14, 30, 5, 123456)


@pytest.mark.parametrize("form, expected", [
    ({"account": "ROAD", "subject": "x"},
     "account: the account of a touchpoint never changes: delete it and add it on the other "
     "account"),
    ({"subject": "x", "notify": "everyone"}, "notify: 'everyone' is not one of none, new, all"),
    ({"type": "fax"}, "type: 'fax' is not one of touchpoints.types"),
    ({"date": "next week"}, "date: 'next week' is not a date"),
    ({"subject": "Renewal call"}, "nothing to change"),
    ({"remove_participant": "nobody@acme.com"}, "nobody@acme.com is not a participant of"),
    ({"add_participant": "no address"}, "participant 'no address' is not an email address"),
])
def test_a_bad_edit_is_400_naming_the_field_and_changes_nothing(web, form, expected):
    tp = _call(web)
    before = _show(web, tp)
    sam = web.signed_in("sam@ourco.com")
    answer = web.post(sam, f"/touchpoints/{tp}/edit", form, form_page=f"/touchpoints/{tp}")
    assert answer.status_code == 400
    assert expected in text_of(answer)
    assert _show(web, tp) == before
    assert [a for _, a, _ in web.changes()] == ["view"]


def test_an_edit_that_mails_a_customer_asks_first_and_writes_nothing_until_yes(any_web):
    web = any_web
    tp = _call(web)
    sam = web.signed_in("sam@ourco.com")
    asked = web.post(sam, f"/touchpoints/{tp}/edit", {
        "subject": "Renewal call (signed)", "add_participant": "beep@road.com",
        "notify": "new"}, form_page=f"/touchpoints/{tp}")
    assert asked.status_code == 200
    assert "Mail 1 external participant?" in text_of(asked)
    assert "beep@road.com" in text_of(asked) and "Nothing has been saved or sent yet." \
        in text_of(asked)
    assert _show(web, tp)["subject"] == "Renewal call" and not _mails(web, "beep@road.com")
    fields = _hidden(asked.text)
    assert ("yes", "yes") in fields and ("add_participant", "beep@road.com") in fields
    done = sam.post(f"/touchpoints/{tp}/edit", data=MultiDict(fields))
    assert done.status_code == 303
    assert _show(web, tp)["subject"] == "Renewal call (signed)"
    [mail] = _mails(web, "beep@road.com")
    assert mail.rcpt_tos == ["beep@road.com"]
    assert not mail.message.get_content().startswith("Account:")  # no internal header outside
    assert web.changes()[:2] == [("sam@ourco.com", "send", f"touchpoint {tp}"),
                               ("sam@ourco.com", "edit", f"touchpoint {tp}")]


def test_notify_all_mails_every_participant_and_yes_in_the_form_needs_no_second_page(web):
    tp = _call(web)
    ann = web.signed_in("ann@ourco.com")
    answer = web.post(ann, f"/touchpoints/{tp}/edit", {"content": "Signed", "notify": "all",
                                                       "yes": "yes"},
                      form_page=f"/touchpoints/{tp}")
    assert answer.status_code == 303
    assert len(_mails(web, "wile@acme.com")) == 1 and len(_mails(web, "ann@ourco.com")) == 1
    assert _mails(web, "ann@ourco.com")[0].message.get_content().startswith(
        "Account: Acme Corp (ACME)")


# --- delete ------------------------------------------------------------------------------------


def test_delete_leaves_a_tombstone_gone_from_the_timeline(any_web):
    web = any_web
    tp = _call(web)
    sam = web.signed_in("sam@ourco.com")
    answer = web.post(sam, f"/touchpoints/{tp}/delete", form_page=f"/touchpoints/{tp}")
    assert (answer.status_code, answer.headers["Location"]) == (303, f"/touchpoints/{tp}")
    assert _show(web, tp)["deleted_by"] == "sam@ourco.com"
    assert web.changes()[0] == ("sam@ourco.com", "delete", f"touchpoint {tp}")
    assert f'href="/touchpoints/{tp}"' not in sam.get("/accounts/ACME").text
    assert web.touchlog("touchpoints", "--account", "ACME", "--format", "json").strip() == "[]"


def test_a_post_without_the_csrf_token_changes_nothing(web):
    tp = _call(web)
    sam = web.signed_in("sam@ourco.com")
    for path, form in ((f"/touchpoints/{tp}/delete", {}), (f"/touchpoints/{tp}/edit",
                                                          {"subject": "x"}),
                       (f"/touchpoints/{tp}/send", {"to": "me"}),
                       ("/touchpoints", {"account": "ACME", "type": "email"})):
        answer = sam.post(path, data=form)
        assert answer.status_code == 400 and "csrf_token" in text_of(answer), path
    shown = _show(web, tp)
    assert shown["deleted_at"] is None and shown["subject"] == "Renewal call"
    assert not _mails(web, "sam@ourco.com")
    assert len(json.loads(web.touchlog("touchpoints", "--format", "json"))) == 1


# --- send --------------------------------------------------------------------------------------


def test_sending_inside_goes_at_once_and_outside_only_after_yes(any_web):
    web = any_web
    tp = _call(web)
    eve = web.signed_in("eve@ourco.com")  # anyone on the team may send
    inside = web.post(eve, f"/touchpoints/{tp}/send", {"to": ["internal", "me"]},
                      form_page=f"/touchpoints/{tp}")
    assert inside.status_code == 303
    assert len(_mails(web, "ann@ourco.com")) == 1 and len(_mails(web, "eve@ourco.com")) == 1
    asked = web.post(eve, f"/touchpoints/{tp}/send", {"to": "external"},
                     form_page=f"/touchpoints/{tp}")
    assert asked.status_code == 200
    assert "Mail 1 external participant?" in text_of(asked) and not _mails(web, "wile@acme.com")
    assert "Emailed externally" not in eve.get("/accounts/ACME").text
    done = eve.post(f"/touchpoints/{tp}/send", data=MultiDict(_hidden(asked.text)))
    assert done.status_code == 303
    [mail] = _mails(web, "wile@acme.com")
    assert re.match(r"touchpoints\+tp\d+\.[0-9a-z]+@ourco\.com", mail.message["Reply-To"])
    page = text_of(eve.get(f"/touchpoints/{tp}"))
    assert "to external (wile@acme.com) by eve@ourco.com Emailed externally" in page
    assert "Emailed externally" in eve.get("/accounts/ACME").text
    assert [a for _, a, _ in web.changes()].count("send") == 2


@pytest.mark.parametrize("form, expected", [
    ({}, "to: required: one or more of internal, external, me"),
    ({"to": "everyone"}, "to: 'everyone' is not one of internal, external, me"),
])
def test_a_bad_send_is_400_naming_to(web, form, expected):
    tp = _call(web)
    sam = web.signed_in("sam@ourco.com")
    answer = web.post(sam, f"/touchpoints/{tp}/send", form, form_page=f"/touchpoints/{tp}")
    assert answer.status_code == 400 and expected in text_of(answer)


def test_sending_to_an_audience_nobody_is_in_sends_nothing(web):
    tp = web.add("ACME", "sam@ourco.com", "telephone_call", "--participant", "ann@ourco.com")
    sam = web.signed_in("sam@ourco.com")
    answer = web.post(sam, f"/touchpoints/{tp}/send", {"to": ["me", "external"], "yes": "yes"},
                      form_page=f"/touchpoints/{tp}")
    assert answer.status_code == 400
    assert f"touchpoint {tp} has no external participants to send to" in text_of(answer)
    assert not _mails(web, "sam@ourco.com")


def test_a_mail_server_that_refuses_is_a_page_that_says_so(web):
    tp = _call(web)
    sam = web.signed_in("sam@ourco.com")
    web.smtp.stop()
    try:
        answer = web.post(sam, f"/touchpoints/{tp}/send", {"to": "me"},
                          form_page=f"/touchpoints/{tp}")
    finally:
        web.smtp.start()
    assert answer.status_code == 503
    assert "smtp" in text_of(answer).lower()
