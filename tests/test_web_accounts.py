"""`GET /accounts?q=` (SPEC 21), the page every other page is patterned on: what `touchlog
accounts` lists, found by name or id, as a table that reads on a phone too."""

from __future__ import annotations

import html
import json
import re

import pytest

from tests.web_world import WebWorld, text_of


def _add(web: WebWorld, account: str, kind: str, date: str) -> None:
    web.touchlog("touchpoints", "add", "--account", account, "--as", "sam@ourco.com",
                 "--type", kind, "--date", date, "--subject", "Call")


def _rows(page_text: str) -> list[list[str]]:
    """The table's body rows, cell by cell, as words."""
    body = page_text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [[" ".join(html.unescape(re.sub(r"<[^>]+>", " ", cell)).split())
             for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)]


def test_the_page_shows_what_touchlog_accounts_lists(any_web):
    web = any_web
    _add(web, "ACME", "telephone_call", "2026-11-02T14:30Z")
    _add(web, "ACME", "web_meeting", "2026-11-04T09:00Z")
    _add(web, "ACME", "internal_note", "2026-11-05T10:00Z")  # a note is no touch
    _add(web, "ROAD", "email", "2026-10-01T08:00Z")
    listed = json.loads(web.touchlog("accounts", "--format", "json"))
    page = web.signed_in("sam@ourco.com").get("/accounts")
    assert page.status_code == 200
    expected = [[r["name"], r["account_id"],
                 r["last_touch"].replace("T", " ")[:16] if r["last_touch"] else "never",
                 str(r["touches"]), str(r["notes"])] for r in listed]
    assert _rows(page.text) == expected
    assert ["Acme Corp", "ACME", "2026-11-04 09:00", "2", "1"] in expected
    assert '<time datetime="2026-11-04T09:00:00Z">' in page.text


@pytest.mark.parametrize("q, ids", [
    ("globex", ["GLOBEX", "GLOBEX-EU"]),          # by name, any case
    ("EUROPE", ["GLOBEX-EU"]),
    ("initech2", ["INITECH2"]),                    # by id, any case
    ("-eu", ["GLOBEX-EU"]),
    ("  acme  ", ["ACME"]),                        # spaces around are no part of it
    ("%", []), ("_", []),                          # no wildcards: these are characters
    ("", ["ACME", "EVIL", "GLOBEX", "GLOBEX-EU", "INITECH", "INITECH2", "ROAD"]),
])
def test_q_finds_accounts_by_name_or_id(web, q, ids):
    page = web.signed_in("sam@ourco.com").get("/accounts", query_string={"q": q})
    assert page.status_code == 200
    found = [row[1] for row in _rows(page.text)] if "<tbody>" in page.text else []
    assert found == ids
    if not ids:
        assert "No account's name or id contains" in text_of(page)


def test_the_search_works_without_javascript_and_with_htmx(web):
    sam = web.signed_in("sam@ourco.com")
    page = sam.get("/accounts?q=road").text
    assert '<form method="get" action="/accounts" role="search"' in page  # a plain GET form
    assert '<label for="q">' in page and 'id="q" name="q"' in page and 'value="road"' in page
    assert 'hx-get="/accounts"' in page and 'hx-select="#accounts"' in page
    partial = sam.get("/accounts?q=road", headers={"HX-Request": "true"})
    assert partial.status_code == 200 and '<div id="accounts">' in partial.text


def test_an_account_removed_from_the_directory_is_not_listed(web):
    web.touchlog("import", "accounts", str(_accounts_without_road(web)), "--replace")
    ids = [row[1] for row in _rows(web.signed_in("sam@ourco.com").get("/accounts").text)]
    assert "ROAD" not in ids and "ACME" in ids


def _accounts_without_road(web: WebWorld):
    from tests.web_world import WEB_ACCOUNTS_CSV

    path = web.folder / "accounts-next.csv"
    path.write_text("\n".join(line for line in WEB_ACCOUNTS_CSV.splitlines()
                              if not line.startswith("ROAD,")) + "\n")
    return path


def test_each_account_links_to_its_timeline_whatever_its_id(web):
    path = web.folder / "odd.csv"
    path.write_text('account_id,name\n"A/B?c=1#x",Odd Ltd\n"Ünï cödé",Unicode GmbH\n')
    web.touchlog("import", "accounts", str(path))
    page = web.signed_in("sam@ourco.com").get("/accounts?q=ltd").text
    assert '<a href="/accounts/A%2FB%3Fc%3D1%23x">Odd Ltd</a>' in page
    page = web.signed_in("sam@ourco.com").get("/accounts?q=gmbh").text
    assert 'href="/accounts/%C3%9Cn%C3%AF%20c%C3%B6d%C3%A9"' in page


def test_a_query_longer_than_200_characters_is_400_naming_q(web):
    answer = web.signed_in("sam@ourco.com").get("/accounts", query_string={"q": "x" * 201})
    assert answer.status_code == 400
    assert "q: at most 200 characters" in text_of(answer)


def test_every_field_is_labelled_and_the_table_reads_on_a_phone(web):
    page = web.signed_in("sam@ourco.com").get("/accounts").text
    ids = re.findall(r'<input[^>]* id="([^"]+)"', page)
    assert ids and all(f'<label for="{i}">' in page for i in ids)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert all(f'data-label="{label}"' in page
               for label in ("Account", "Id", "Last touch (UTC)", "Touches", "Notes"))
    assert '<a class="skip" href="#main">' in page  # a keyboard user skips the menu
