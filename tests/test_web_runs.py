"""`GET /runs` (SPEC 21): for admins, the recent poll passes as `touchlog runs` lists them, the
failure notices by status, and the Salesforce sync as `touchlog sync status` tells it; anyone
else is refused with the CLI's words."""

from __future__ import annotations

import json
import re

import pytest

from store.ledger.totals import notice_counts, notices_text
from tests.builders import make_mail
from tests.fake_salesforce import FakeSalesforce
from tests.review_world import ReviewWorld, assert_safe
from tests.sf_world import TOKEN_ENV
from tests.web_world import HOSTILE, text_of


def test_an_admin_sees_the_passes_the_notices_and_the_sync_status(any_review_web):
    web = any_review_web
    web.fail(make_mail(to="jill@unknown-corp.com", subject="Renewal call"),
             make_mail(to="touchpoints@ourco.com", subject="x@initech.com", body="CTO"))
    web.touchlog("poll", "--once")
    listed = json.loads(web.touchlog("runs", "--format", "json"))
    page = web.signed_in("ann@ourco.com").get("/runs")
    assert page.status_code == 200
    rows = re.findall(r'<th scope="row" data-label="Pass">(\d+)</th>', page.text)
    assert [int(n) for n in rows] == [r["id"] for r in listed]  # newest first
    words = text_of(page)
    newest, first = listed[-1], listed[0]
    for run in listed:
        assert run["status"] in words
    counts = ", ".join(f"{k} {v}" for k, v in newest["counts"].items() if ":" not in k)
    assert counts in words and "failed 2" in counts
    notices = notices_text(notice_counts(newest["counts"]))
    assert notices == "sent 2" and notices in words
    assert "Failure notices by status sent 2" in words  # the notices table, as /metrics
    assert "No Salesforce sync has run yet." in words
    assert first["id"] != newest["id"]


def test_limit_as_runs_limit(review_web):
    web = review_web
    for _ in range(3):
        web.touchlog("poll", "--once")
    ann = web.signed_in("ann@ourco.com")
    page = ann.get("/runs?limit=2").text
    assert len(re.findall(r'data-label="Pass"', page)) == 2
    for bad in ("0", "1001", "abc"):
        answer = ann.get("/runs", query_string={"limit": bad})
        assert answer.status_code == 400
        assert f"limit: '{bad}' is not a number from 1 to 1000" in text_of(answer)


def test_the_sync_status_is_sync_status(tmp_path, smtp_sink, imap, monkeypatch):
    fake = FakeSalesforce(page_size=50).start()
    try:
        monkeypatch.setenv(TOKEN_ENV, fake.token)
        monkeypatch.setenv("TOUCHLOG_TEST_METRICS_TOKEN", "x")
        web = ReviewWorld(tmp_path, smtp_sink, imap, salesforce={
            "enabled": True, "instance_url": fake.url, "access_token_env": TOKEN_ENV,
            "ca_file": fake.ca_file})
        web.touchlog("tasks", "add", "--account", "ACME", "--as", "sam@ourco.com",
                     "--title", "Call back")
        web.touchlog("sync", "salesforce")
        status = json.loads(web.touchlog("sync", "status", "--format", "json"))
        words = text_of(web.signed_in("ann@ourco.com").get("/runs"))
    finally:
        fake.stop()
    for row in status:
        counts = ", ".join(f"{c} {row['counts'].get(c, 0)}" for c in
                           ("created", "updated", "deleted", "skipped", "conflicts", "errors"))
        line = f"{row['object']} {row['direction']}"
        assert line in words and counts in words, (line, counts)
    assert "No Salesforce sync has run yet." not in words
    assert any(r["last_run"] for r in status)


@pytest.mark.parametrize("who", ["sam@ourco.com", "eve@ourco.com"])
def test_a_member_who_is_no_admin_is_refused_with_the_clis_words(web, who):
    answer = web.signed_in(who).get("/runs")
    assert answer.status_code == 403
    assert f"{who} may not read the runs: only an admin (ann@ourco.com) may" in \
        text_of(answer)
    assert 'href="/runs"' not in web.signed_in(who).get("/accounts").text  # not in the menu


def test_anonymous_and_a_departed_admin_are_sent_to_sign_in(any_web):
    web = any_web
    assert web.client().get("/runs").headers["Location"] == "/login"
    ann = web.signed_in("ann@ourco.com")
    assert ann.get("/runs").status_code == 200
    assert 'href="/runs"' in ann.get("/accounts").text
    web.import_team("email,name,role\nsam@ourco.com,Sam,user\n", "--replace")
    assert ann.get("/runs").headers["Location"] == "/login"


def test_an_admin_made_a_user_loses_the_page_at_once(web):
    ann = web.signed_in("ann@ourco.com")
    web.import_team("email,name,role\nsam@ourco.com,Sam,admin\nann@ourco.com,Ann,user\n",
                    "--replace")
    answer = ann.get("/runs")
    assert answer.status_code == 403
    assert "ann@ourco.com may not read the runs: only an admin (sam@ourco.com) may" in \
        text_of(answer)


def test_an_empty_installation_says_so(web):
    words = text_of(web.signed_in("ann@ourco.com").get("/runs"))
    assert "No pass has run yet" in words and "No failure notice yet." in words


def test_every_answer_sends_the_security_headers_and_no_inline_script(review_web):
    web = review_web
    web.fail(make_mail(to="jill@unknown-corp.com", subject=HOSTILE))
    assert_safe(web.signed_in("ann@ourco.com").get("/runs"))
    assert_safe(web.signed_in("ann@ourco.com").get("/runs?limit=0"), 400)
    assert_safe(web.signed_in("sam@ourco.com").get("/runs"), 403)
