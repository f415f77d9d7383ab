"""`GET /accounts/ID` (SPEC 21): an account's timeline over HTTP, for every role; its pages,
filters, folded replies, "Emailed externally", the chart, hostile text and the audit row."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

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

NOW = datetime(2026, 11, 4, 12)  # a Wednesday


def _ids(page_text: str) -> list[int]:
    """The touchpoints the table lists, top to bottom (replies inside a row excluded)."""
    table = '<table class="cards timeline">'
    body = page_text.split(table, 1)[1].split("</tbody>", 1)[0] if table in page_text else ""
    rows = re.findall(r'<th scope="row" data-label="Subject">\s*<a href="/touchpoints/(\d+)"',
                      body)
    return [int(n) for n in rows]


def _link(page_text: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', page_text)
    return found.group(1).replace("&amp;", "&") if found else None


def test_every_role_sees_the_timeline_or_is_sent_to_sign_in(any_web):
    web = any_web
    tp = web.add("ACME", "sam@ourco.com", "telephone_call", "--subject", "Renewal call")
    web.import_team(WEB_TEAM_CSV + "dan@ourco.com,Dan Departed,user,\n")
    dan = web.signed_in("dan@ourco.com")
    web.import_team(WEB_TEAM_CSV, "--replace")
    assert (web.client().get("/accounts/ACME").status_code,
            web.client().get("/accounts/ACME").headers["Location"]) == (302, "/login")
    assert dan.get("/accounts/ACME").status_code == 302
    for who in ("sam@ourco.com", "eve@ourco.com", "ann@ourco.com"):
        page = web.signed_in(who).get("/accounts/ACME")
        assert page.status_code == 200, who
        assert _ids(page.text) == [tp]
        assert "Renewal call" in text_of(page)
    rows = [r for r in web.audit() if r["action"] == "view"]
    assert [(r["member"], r["object"]) for r in rows] == [
        (who, "account ACME") for who in ("ann@ourco.com", "eve@ourco.com", "sam@ourco.com")]


@pytest.mark.parametrize("path", ["/accounts/NOPE", "/accounts/acme"])
def test_an_unknown_account_is_404(web, path):
    answer = web.signed_in("sam@ourco.com").get(path)
    assert answer.status_code == 404
    assert "no account" in text_of(answer)


def test_the_name_and_last_touch_head_the_page_and_a_note_is_no_touch(web):
    web.now = NOW
    web.add("ACME", "sam@ourco.com", "telephone_call", "--date", "2026-11-02T14:30Z")
    web.add("ACME", "sam@ourco.com", "internal_note", "--date", "2026-11-03T10:00Z",
            "--content", "Champion leaves")
    page = web.signed_in("sam@ourco.com").get("/accounts/ACME")
    words = text_of(page)
    assert "<h1>Acme Corp</h1>" in page.text
    assert ("Last touch: 2026-11-02 14:30 UTC · the last 26 weeks: 1 touch, 1 internal note"
            in words)
    web.add("ACME", "sam@ourco.com", "web_meeting", "--date", "2026-01-02T10:00Z")  # older
    web.add("ACME", "sam@ourco.com", "internal_note", "--date", "2026-11-05T10:00Z")  # later
    words = text_of(web.signed_in("ann@ourco.com").get("/accounts/ACME"))
    assert "Last touch: 2026-11-02 14:30 UTC · the last 26 weeks: 1 touch, 2 internal notes" \
        in words


def test_fifty_a_page_newest_first_with_links_that_keep_the_filters(web):
    web.now = NOW
    ids = [web.add("ACME", "sam@ourco.com", "telephone_call", "--date",
                   f"{(NOW - timedelta(hours=n // 2)):%Y-%m-%dT%H:%MZ}") for n in range(120)]
    web.add("ACME", "sam@ourco.com", "internal_note")  # filtered out below
    cli = [r["id"] for r in json.loads(web.touchlog(
        "touchpoints", "--account", "ACME", "--no-notes", "--format", "json"))]
    sam = web.signed_in("sam@ourco.com")
    page = sam.get("/accounts/ACME?notes=none")
    seen, pages = [], 0
    while True:
        pages += 1
        assert page.status_code == 200
        seen += _ids(page.text)
        older = _link(page.text, "next")
        if older is None:
            break
        assert older.startswith("/accounts/ACME?notes=none&before=")
        page = sam.get(older)
    assert pages == 3 and seen == cli and sorted(seen) == ids
    newer = _link(page.text, "prev")
    assert newer is not None and "notes=none" in newer and "after=" in newer
    assert _ids(sam.get(newer).text) == cli[50:100]


@pytest.mark.parametrize("query, expected", [
    ("type=bogus", "type: 'bogus' is not one of touchpoints.types: web_meeting, "
                   "in_person_meeting, telephone_call, email, internal_note"),
    ("notes=maybe", "notes: 'maybe' is not one of only, none"),
    ("type=email&notes=only", "notes: give a type or notes only/none, not both"),
    ("since=yesterday", "since: 'yesterday' is not a date (2026-11-02) or a date and time"),
    ("until=2026-13-01", "until: '2026-13-01' is not a date"),
    ("before=2026-11-02T10:00:00_abc", "before: '2026-11-02T10:00:00_abc' is not a place in "
                                       "the timeline"),
    ("after=yesterday_3", "after: 'yesterday_3' is not a place in the timeline"),
    ("flow=" + "x" * 201, "flow: at most 200 characters"),
])
def test_a_bad_filter_is_400_naming_the_field(web, query, expected):
    answer = web.signed_in("sam@ourco.com").get("/accounts/ACME?" + query)
    assert answer.status_code == 400
    assert expected in text_of(answer)


def test_filters_narrow_the_page_as_the_cli_does(web):
    web.add("ACME", "sam@ourco.com", "telephone_call", "--date", "2026-10-01T10:00Z",
            "--flow", "Renewal")
    web.add("ACME", "sam@ourco.com", "web_meeting", "--date", "2026-10-15T10:00Z")
    web.add("ACME", "sam@ourco.com", "internal_note", "--date", "2026-10-20T10:00Z")
    web.add("ACME", "sam@ourco.com", "email", "--date", "2026-11-01T10:00Z")
    sam = web.signed_in("sam@ourco.com")
    for query, args in (("type=web_meeting", ["--type", "web_meeting"]),
                        ("flow=Renewal", ["--flow", "Renewal"]),
                        ("notes=only", ["--notes"]), ("notes=none", ["--no-notes"]),
                        ("since=2026-10-10&until=2026-10-20", ["--since", "2026-10-10",
                                                               "--until", "2026-10-20"])):
        cli = [r["id"] for r in json.loads(web.touchlog(
            "touchpoints", "--account", "ACME", *args, "--format", "json"))]
        page = sam.get("/accounts/ACME?" + query)
        assert _ids(page.text) == cli, query
    form = sam.get("/accounts/ACME?type=web_meeting&since=2026-10-10").text
    assert '<option value="web_meeting" selected>' in form
    assert 'id="since" name="since" type="date" value="2026-10-10"' in form
    assert "No touchpoint matches these filters." in text_of(sam.get("/accounts/ACME?flow=x"))


def test_replies_fold_under_the_first_with_their_count_and_open_without_script(web):
    first = web.mail(subject="Quote", when=NOW - timedelta(days=3))
    one = web.mail(subject="Re: Quote", parent=first, when=NOW - timedelta(days=2))
    two = web.mail(subject="Re: Re: Quote", parent=one, when=NOW - timedelta(days=1))
    single = web.mail(subject="Other", when=NOW - timedelta(days=4))
    lone = web.mail(subject="Lone", when=NOW - timedelta(days=5))
    web.mail(subject="Re: Lone", parent=lone, when=NOW - timedelta(days=4, hours=1))
    page = web.signed_in("sam@ourco.com").get("/accounts/ACME").text
    assert _ids(page) == [first, single, lone]
    assert "<summary>2 replies</summary>" in page and "<summary>1 reply</summary>" in page
    details = page.split("<summary>2 replies</summary>", 1)[1].split("</details>", 1)[0]
    assert [int(n) for n in re.findall(r'href="/touchpoints/(\d+)"', details)] == [one, two]


def test_copies_mailed_outside_are_marked_emailed_externally(web):
    web.touchlog("import", "users", str(_users(web)))
    tp = web.add("ACME", "sam@ourco.com", "telephone_call", "--participant", "wile@acme.com",
                 "--participant", "ann@ourco.com")
    inside = web.add("ACME", "sam@ourco.com", "telephone_call", "--participant",
                     "ann@ourco.com")
    web.touchlog("touchpoints", "send", str(tp), "--as", "sam@ourco.com", "--to", "external",
                 "--yes")
    web.touchlog("touchpoints", "send", str(inside), "--as", "sam@ourco.com", "--to",
                 "internal")
    page = web.signed_in("sam@ourco.com").get("/accounts/ACME").text
    rows = page.split('<table class="cards timeline">', 1)[1].split("</tr>")
    marked = [int(re.search(r'href="/touchpoints/(\d+)"', row).group(1)) for row in rows
              if "Emailed externally" in row]
    assert marked == [tp]


def _users(web: WebWorld):
    from tests.builders import USERS_CSV

    path = web.folder / "users-more.csv"
    path.write_text(USERS_CSV)
    return path


def test_deleted_touchpoints_are_gone_from_the_page_and_the_chart(web):
    web.now = NOW
    kept = web.add("ACME", "sam@ourco.com", "telephone_call", "--date", "2026-11-03T10:00Z")
    gone = web.add("ACME", "sam@ourco.com", "telephone_call", "--date", "2026-11-03T11:00Z")
    web.touchlog("touchpoints", "delete", str(gone), "--as", "sam@ourco.com")
    page = web.signed_in("sam@ourco.com").get("/accounts/ACME")
    assert _ids(page.text) == [kept]
    assert "week of 2026-11-02: 1 touch" in page.text


def test_the_chart_is_inline_svg_with_a_text_alternative_and_no_style(web):
    web.now = NOW
    for day, kind in ((3, "telephone_call"), (3, "email"), (2, "internal_note")):
        web.add("ACME", "sam@ourco.com", kind, "--date", f"2026-11-0{day}T09:00Z")
    web.add("ACME", "sam@ourco.com", "web_meeting", "--date", "2026-10-27T09:00Z")
    web.add("ACME", "sam@ourco.com", "web_meeting", "--date", "2026-05-01T09:00Z")  # too old
    page = web.signed_in("sam@ourco.com").get("/accounts/ACME").text
    svg = page.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert 'role="img" aria-labelledby="chart-title chart-desc"' in svg
    assert '<title id="chart-title">Touches and internal notes per week</title>' in svg
    assert ("26 weeks from 2026-05-11 to the week of 2026-11-02: 3 touches and 1 internal "
            "note. The busiest week was the week of 2026-11-02, with 2 touches.") in svg
    assert svg.count('class="bar touches"') == 2 and svg.count('class="bar notes"') == 1
    assert "<title>week of 2026-11-02: 2 touches</title>" in svg
    assert "style" not in svg and "<script" not in page.split("</head>", 1)[1]
    table = page.split("The chart as a table", 1)[1].split("</table>", 1)[0]
    assert re.search(r"2026-11-02</time></th><td class=\"num\">2</td><td class=\"num\">1</td>",
                     table)
    assert len(re.findall(r"<tr><th scope=\"row\">", table)) == 26


def test_hostile_text_is_shown_as_text(web):
    tp = web.plant_hostile()
    page = web.signed_in("sam@ourco.com").get("/accounts/ACME")
    assert _ids(page.text) == [tp]
    assert "<script>alert(1)" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in page.text
    assert "\x1b" not in page.text and "\u202e" not in page.text and "\x00" not in page.text
    assert "\\x1b[2J\\u202eevil" in page.text
    evil = web.signed_in("sam@ourco.com").get("/accounts/EVIL")  # the account's own name
    assert evil.status_code == 200 and HOSTILE not in evil.text
    assert f"<h1>{HOSTILE}</h1>" not in evil.text and "<h1>&lt;script&gt;" in evil.text
    assert CONTROLS not in evil.text


def test_every_field_is_labelled_headings_in_order_and_rows_become_cards(web):
    web.add("ACME", "sam@ourco.com", "telephone_call")
    page = web.signed_in("sam@ourco.com").get("/accounts/ACME").text
    assert unlabelled(page) == [] and 'id="type"' in page
    assert headings_skip(page) == []
    for label in ("When (UTC)", "Type", "Subject", "Creator", "Participants", "Replies"):
        assert f'data-label="{label}"' in page
    assert '<table class="cards timeline">' in page


def test_an_account_id_with_any_character_has_its_timeline(web):
    path = web.folder / "odd.csv"
    path.write_text('account_id,name\n"A/B?c=1#x",Odd Ltd\n')
    web.touchlog("import", "accounts", str(path))
    tp = web.add("A/B?c=1#x", "sam@ourco.com", "telephone_call", "--subject", "Odd call")
    sam = web.signed_in("sam@ourco.com")
    page = sam.get("/accounts/A%2FB%3Fc%3D1%23x")
    assert page.status_code == 200 and _ids(page.text) == [tp]
    assert 'action="/accounts/A%2FB%3Fc%3D1%23x"' in page.text  # the filter form stays here
    new = re.search(r'href="(/touchpoints/new\?account=[^"]+)">Add a touchpoint', page.text)[1]
    added = sam.get(new)
    assert added.status_code == 200 and "Odd Ltd" in text_of(added)
    assert 'name="account" value="A/B?c=1#x"' in added.text


def test_a_removed_account_keeps_its_timeline_but_takes_nothing_new(web):
    tp = web.add("ROAD", "sam@ourco.com", "telephone_call")
    path = web.folder / "fewer.csv"
    path.write_text("account_id,name\nACME,Acme Corp\n")
    web.touchlog("import", "accounts", str(path), "--replace")
    page = web.signed_in("sam@ourco.com").get("/accounts/ROAD")
    assert page.status_code == 200 and _ids(page.text) == [tp]
    assert "removed from the directory on" in text_of(page)
    assert "/touchpoints/new" not in page.text
