"""The review queue on the web (SPEC 13, 21, 22), against a real Dovecot: `GET /review` shows
the failed folder as `touchlog failures` lists it, with the accounts the rules saw as text;
`POST /review/UID/assign` and `/retry` move the message for real, for the team member who sent
it or an admin, and for nobody else; every route for every role."""

from __future__ import annotations

import json
import re
import socket
from dataclasses import replace

import pytest

from tests.builders import make_mail
from tests.review_world import FAILED, LOGGED, ReviewWorld, assert_safe
from tests.web_world import HOSTILE, text_of

RENEWAL = make_mail(to="jill@unknown-corp.com", subject="Renewal call",
                    message_id="<renewal@ourco.com>")
INITECH = make_mail(to="touchpoints@ourco.com", subject="x@initech.com", body="Met their CTO.",
                    message_id="<initech@ourco.com>")
EVES = make_mail(sender="eve@ourco.com", to="jill@unknown-corp.com", subject=HOSTILE,
                 message_id="<eve@ourco.com>")


def changes(web: ReviewWorld) -> list[tuple[str, str, str]]:
    """The audit rows of changes, oldest first (page views and sign-ins left out)."""
    rows = web.audit()
    return [(r["member"], r["action"], r["object"]) for r in reversed(rows)
            if r["action"] not in ("sign_in", "view")]


def rows_of(page_text: str) -> dict[int, list[str]]:
    """UID -> the row's cells as words."""
    found = {}
    for uid, row in re.findall(r'<tr id="uid-(\d+)">(.*?)</tr>', page_text, flags=re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)
        found[int(uid)] = [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in cells]
    return found


# --- the page ------------------------------------------------------------------------------------


def test_the_page_is_the_failed_folder_with_the_accounts_the_rules_saw(any_review_web):
    web = any_review_web
    uids = web.fail(RENEWAL, INITECH)
    listed = {f["uid"]: f for f in web.failures()}
    page = web.signed_in("sam@ourco.com").get("/review")
    assert page.status_code == 200
    rows = rows_of(page.text)
    assert list(rows) == sorted(listed, reverse=True)  # newest first
    for uid, f in listed.items():
        subject, shown_uid, date, sender, reason = rows[uid][:5]
        assert (subject, shown_uid, sender) == (f["subject"], str(uid), f["sender"])
        assert date == f["date"].replace("T", " ")[:16]
        assert reason.startswith(f["reason"]) and f["detail"] in reason
    # As text, not only in a menu, best first as `touchlog failures` gives them
    suggested = listed[uids["x@initech.com"]]["suggestions"]
    assert {s["account_id"] for s in suggested} == {"INITECH", "INITECH2"}
    assert rows[uids["x@initech.com"]][5] == " ".join(f"{s['name']} {s['account_id']}"
                                                      for s in suggested)
    assert "none: any account can be chosen" in rows[uids["Renewal call"]][5]
    assert '<option value="INITECH2">Initech Labs</option>' in page.text
    assert "2 messages in Touchpoints/Failed" in text_of(page)
    audit = web.audit()[0]
    assert (audit["member"], audit["action"], audit["object"]) == \
        ("sam@ourco.com", "view", "failed folder page 1")


def test_a_hostile_subject_is_text(review_web):
    web = review_web
    web.fail(EVES)
    page = web.signed_in("eve@ourco.com").get("/review").text
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_every_field_is_labelled_and_the_table_reads_on_a_phone(review_web):
    web = review_web
    web.fail(RENEWAL, INITECH)
    page = web.signed_in("sam@ourco.com").get("/review").text
    ids = re.findall(r'<input[^>]* id="([^"]+)"', page)
    assert len(ids) == 4 and all(f'<label for="{i}">' in page for i in ids)
    for label in ("Subject", "UID", "Date (UTC)", "Sender", "Reason",
                  "Accounts the rules saw, best first", "Fix"):
        assert f'data-label="{label}"' in page
    assert 'name="remember" type="checkbox"' in page


def test_an_empty_folder_says_so(review_web):
    words = text_of(review_web.signed_in("sam@ourco.com").get("/review"))
    assert "0 messages in Touchpoints/Failed" in words and "Nothing to review" in words


def test_pages_of_50_newest_first(review_web):
    web = review_web
    web.imap.seed([make_mail(to=f"jill@unknown{n}.example", subject=f"Call {n}",
                             message_id=f"<call-{n}@ourco.com>") for n in range(53)])
    web.touchlog("poll", "--once")
    everything = sorted((f["uid"] for f in web.failures()), reverse=True)
    sam = web.signed_in("sam@ourco.com")
    first, second = sam.get("/review"), sam.get("/review?page=2")
    assert list(rows_of(first.text)) == everything[:50]
    assert list(rows_of(second.text)) == everything[50:]
    assert 'href="/review?page=2" rel="next"' in first.text
    assert 'href="/review?page=1" rel="prev"' in second.text and 'rel="next"' not in second.text
    assert "53 messages in Touchpoints/Failed, newest first, 50 a page" in text_of(first)
    assert sam.get("/review?page=0").status_code == 400


def test_messages_sharing_a_message_id_each_show_their_own_record(review_web):
    """A second message under the same Message-ID is recorded under its own bytes: the page and
    `failures show` (which reads one UID) find each one's own reason, as `failures` does."""
    web = review_web
    web.fail(make_mail(to="jill@unknown-corp.com", subject="First", message_id="<same@ourco.com>"))
    web.fail(make_mail(to="touchpoints@ourco.com", subject="x@initech.com", body="other",
                       message_id="<same@ourco.com>"))
    listed = {f["uid"]: (f["reason"], f["detail"]) for f in web.failures()}
    assert sorted(r for r, _ in listed.values()) == ["ambiguous_account", "no_account"]
    for uid, (reason, detail) in listed.items():
        shown = json.loads(web.touchlog("failures", "show", str(uid), "--format", "json"))
        assert (shown["reason"], shown["detail"]) == (reason, detail)
        assert bool(shown["candidates"]) == (reason == "ambiguous_account")
    rows = rows_of(web.signed_in("sam@ourco.com").get("/review").text)
    for uid, (reason, detail) in listed.items():
        assert rows[uid][4] == f"{reason} {detail}"
        assert ("INITECH2" in rows[uid][5]) == (reason == "ambiguous_account")


# --- assign and retry ----------------------------------------------------------------------------


def test_the_sender_assigns_their_message_and_it_moves_on_dovecot(any_review_web):
    web = any_review_web
    uid = web.fail(RENEWAL, INITECH)["x@initech.com"]
    sam = web.signed_in("sam@ourco.com")
    answer = web.post(sam, f"/review/{uid}/assign", {"account": "INITECH2"},
                      form_page="/review")
    assert answer.status_code == 303
    assert uid not in web.in_folder(FAILED)
    assert any(b"Subject: x@initech.com" in raw for raw in web.in_folder(LOGGED).values())
    [tp] = json.loads(web.touchlog("touchpoints", "--account", "INITECH2", "--format", "json"))
    explained = web.touchlog("explain", str(tp["id"]))
    assert "manual" in explained and "sam@ourco.com" in explained
    assert changes(web) == [("sam@ourco.com", "assign", f"failure UID {uid}")]
    location = answer.headers["Location"]
    assert location == f"/review?done=assigned&uid={uid}&touchpoint={tp['id']}"
    page = re.sub(r" ([;.])", r"\1", text_of(sam.get(location)))  # a link's end is a space
    assert (f"UID {uid} logged on Initech Labs (INITECH2) as touchpoint {tp['id']}; "
            f"moved to {LOGGED}.") in page
    assert "1 message in Touchpoints/Failed" in page


def test_the_sender_retries_their_message(any_review_web):
    web = any_review_web
    uid = web.fail(RENEWAL, INITECH)["Renewal call"]
    sam = web.signed_in("sam.alias@ourco.com")  # an alias signs in as its member
    answer = web.post(sam, f"/review/{uid}/retry?page=1", form_page="/review")
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/review?page=1&done=retried&uid={uid}"
    assert uid not in web.in_folder(FAILED)
    assert any(b"Subject: Renewal call" in raw for raw in web.in_folder("INBOX").values())
    assert changes(web) == [("sam@ourco.com", "retry", f"failure UID {uid}")]
    assert f"UID {uid} moved back to the inbox" in text_of(sam.get(answer.headers["Location"]))


@pytest.mark.parametrize("verb", ["assign", "retry"])
def test_another_member_is_refused_and_nothing_moves(any_review_web, verb):
    web = any_review_web
    uid = web.fail(RENEWAL)["Renewal call"]
    eve = web.signed_in("eve@ourco.com")
    answer = web.post(eve, f"/review/{uid}/{verb}", {"account": "ACME"}, form_page="/review")
    assert answer.status_code == 403
    assert (f"eve@ourco.com may not {verb} UID {uid}: only the team member who sent it "
            "(sam@ourco.com) or an admin (ann@ourco.com) may") in text_of(answer)
    assert uid in web.in_folder(FAILED)
    assert changes(web) == []
    page = eve.get("/review").text  # she sees it, with no control that would be refused
    assert f"/review/{uid}/{verb}" not in page
    assert "the team member who sent it, or an admin" in page


@pytest.mark.parametrize("verb", ["assign", "retry"])
def test_an_admin_may_fix_anyones_message(review_web, verb):
    web = review_web
    uid = web.fail(EVES)[HOSTILE]
    ann = web.signed_in("ann@ourco.com")
    assert f"/review/{uid}/{verb}" in ann.get("/review").text
    answer = web.post(ann, f"/review/{uid}/{verb}", {"account": "ROAD"}, form_page="/review")
    assert answer.status_code == 303
    assert web.in_folder(FAILED) == {}
    assert changes(web) == [("ann@ourco.com", verb, f"failure UID {uid}")]


def test_remember_makes_the_customer_a_contact_of_the_account(any_review_web):
    web = any_review_web
    uid = web.fail(RENEWAL)["Renewal call"]
    sam = web.signed_in("sam@ourco.com")
    answer = web.post(sam, f"/review/{uid}/assign", {"account": "ROAD", "remember": "yes"},
                      form_page="/review")
    assert answer.status_code == 303
    assert changes(web) == [("sam@ourco.com", "assign", f"failure UID {uid}"),
                            ("sam@ourco.com", "remember", f"failure UID {uid}")]
    page = text_of(sam.get(answer.headers["Location"]))
    assert "remembered by sam@ourco.com" in page
    assert "jill@unknown-corp.com is now its contact" in page
    # The next mail from her resolves by contact
    web.imap.append(make_mail(to="jill@unknown-corp.com", subject="Pricing",
                              message_id="<pricing@ourco.com>"))
    assert web.touchlog("poll", "--once").startswith("logged 1, skipped 0, failed 0")
    [tp] = [t for t in json.loads(web.touchlog("touchpoints", "--format", "json"))
            if t["subject"] == "Pricing"]
    assert (tp["account_id"], tp["rule"]) == ("ROAD", "contact")


def test_without_remember_nothing_is_learnt(review_web):
    web = review_web
    uid = web.fail(RENEWAL)["Renewal call"]
    sam = web.signed_in("sam@ourco.com")
    answer = web.post(sam, f"/review/{uid}/assign", {"account": "ROAD", "remember": ""},
                      form_page="/review")
    assert "remembered" not in text_of(sam.get(answer.headers["Location"]))
    assert [a for _, a, _ in changes(web)] == ["assign"]
    web.imap.append(make_mail(to="jill@unknown-corp.com", subject="Pricing",
                              message_id="<pricing@ourco.com>"))
    assert "no_account 1" in web.touchlog("poll", "--once")


def test_a_uid_no_imap_server_has_is_no_such_message_on_the_command_line_too(review_web):
    web = review_web
    web.fail(RENEWAL)
    for command in (("failures", "show"), ("failures", "retry")):
        result = web.touchlog_result(*command, "4294967296")
        assert result.exit_code == 1
        assert result.output == f"touchlog: no message with UID 4294967296 in {FAILED}\n"


def test_the_cli_keeps_spec_13s_rule(review_web):
    """Any team member named by --as may assign from the command line (docs/web.md)."""
    web = review_web
    uid = web.fail(RENEWAL)["Renewal call"]
    web.touchlog("failures", "assign", str(uid), "--account", "ACME", "--as", "eve@ourco.com")
    assert web.in_folder(FAILED) == {}


@pytest.mark.parametrize("form, words", [
    ({}, "account: required"),
    ({"account": "NOPE"}, "account: no account 'NOPE'"),
    ({"account": "initech"}, "did you mean"),
    ({"account": "x" * 201}, "account: at most 200 characters"),
])
def test_a_bad_account_is_400_naming_the_field_and_nothing_moves(review_web, form, words):
    web = review_web
    uid = web.fail(INITECH)["x@initech.com"]
    sam = web.signed_in("sam@ourco.com")
    answer = web.post(sam, f"/review/{uid}/assign", form, form_page="/review")
    assert answer.status_code == 400
    assert words in text_of(answer)
    assert uid in web.in_folder(FAILED) and changes(web) == []


def test_a_removed_account_cannot_be_chosen(review_web):
    web = review_web
    uid = web.fail(INITECH)["x@initech.com"]
    path = web.folder / "accounts-next.csv"
    path.write_text("account_id,name,email_domains\nINITECH,Initech,initech.com\n")
    web.touchlog("import", "accounts", str(path), "--replace")
    answer = web.post(web.signed_in("ann@ourco.com"), f"/review/{uid}/assign",
                      {"account": "INITECH2"}, form_page="/review")
    assert answer.status_code == 400
    assert "account: account 'INITECH2' was removed from the directory" in text_of(answer)


@pytest.mark.parametrize("uid", ["0", "abc", "9223372036854775808", "999", "4294967296"])
@pytest.mark.parametrize("who", ["sam@ourco.com", "ann@ourco.com"])
@pytest.mark.parametrize("verb", ["assign", "retry"])
def test_a_uid_that_names_no_failed_message_is_404(review_web, uid, who, verb):
    web = review_web
    if who == "sam@ourco.com" and verb == "assign" and uid == "999":
        web.fail(RENEWAL)  # the folder exists and holds another message
    browser = web.signed_in(who)
    answer = web.post(browser, f"/review/{uid}/{verb}", {"account": "ACME"},
                      form_page="/review")
    assert answer.status_code == 404


def test_anonymous_and_departed_members_get_nothing(any_review_web):
    web = any_review_web
    uid = web.fail(RENEWAL)["Renewal call"]
    sam = web.signed_in("sam@ourco.com")
    token = web.csrf(sam, "/review")
    anon = web.client()
    assert anon.get("/review").headers["Location"] == "/login"
    assert anon.post(f"/review/{uid}/retry").status_code == 401
    web.import_team("email,name,role\nann@ourco.com,Ann,admin\n", "--replace")
    assert sam.get("/review").headers["Location"] == "/login"
    for verb in ("assign", "retry"):
        answer = sam.post(f"/review/{uid}/{verb}", data={"csrf_token": token,
                                                         "account": "ACME"})
        assert answer.status_code == 401
    assert uid in web.in_folder(FAILED) and changes(web) == []


def test_a_post_without_the_csrf_token_moves_nothing(review_web):
    web = review_web
    uid = web.fail(RENEWAL)["Renewal call"]
    sam = web.signed_in("sam@ourco.com")
    assert sam.post(f"/review/{uid}/retry").status_code == 400
    assert uid in web.in_folder(FAILED)


def test_a_mailbox_that_does_not_answer_is_503(review_web):
    web = review_web
    sam = web.signed_in("sam@ourco.com")
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    st = web.app.extensions["touchlog"]
    st.settings = replace(st.settings, mailbox=replace(st.settings.mailbox, port=port))
    answer = sam.get("/review")
    assert answer.status_code == 503
    assert "The mailbox is not answering (IMAP); try again in a moment." in text_of(answer)


def test_every_answer_sends_the_security_headers_and_no_inline_script(review_web):
    web = review_web
    uid = web.fail(RENEWAL)["Renewal call"]
    sam, eve = web.signed_in("sam@ourco.com"), web.signed_in("eve@ourco.com")
    assert_safe(sam.get("/review"))
    assert_safe(sam.get("/review?page=x"), 400)
    assert_safe(web.post(eve, f"/review/{uid}/retry", form_page="/review"), 403)
    assert_safe(web.post(sam, "/review/0/retry", form_page="/review"), 404)
    assert_safe(web.post(sam, f"/review/{uid}/assign", form_page="/review"), 400)
    moved = web.post(sam, f"/review/{uid}/retry", form_page="/review")
    assert moved.status_code == 303 and moved.headers["X-Frame-Options"] == "DENY"
    assert_safe(sam.get(moved.headers["Location"]))


def test_page_views_share_one_imap_session_and_survive_its_end(review_web):
    """poller.imap.reuse: one signed-in session kept between page views; one the server ended
    meanwhile is replaced without the page noticing."""
    web = review_web
    web.fail(RENEWAL)
    sam = web.signed_in("sam@ourco.com")
    for _ in range(3):
        assert sam.get("/review").status_code == 200
    assert len(web.imap.server.kill_sessions(web.imap.username)) == 1  # one, kept
    page = sam.get("/review")
    assert page.status_code == 200 and "1 message in Touchpoints/Failed" in text_of(page)


def test_a_session_that_met_an_error_is_closed_not_kept(review_web):
    from poller.imap import reuse

    settings = review_web.settings
    with reuse.reused_mailbox(settings) as box:
        first = box
    with reuse.reused_mailbox(settings) as box:
        assert box is first  # given back, taken again
    with pytest.raises(RuntimeError), reuse.reused_mailbox(settings) as box:
        raise RuntimeError("the page failed half-way")
    with reuse.reused_mailbox(settings) as box:
        assert box is not first
