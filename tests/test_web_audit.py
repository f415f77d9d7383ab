"""The audit trail (SPEC 21): a row for every sign-in, sign-out, content page and change, with
the member, the time and the client's address; `touchlog audit` and `GET /audit` list it."""

from __future__ import annotations

import ipaddress
from datetime import timedelta

import pytest

from core.utc import utcnow
from tests.web_world import WEB_TEAM_CSV, WebWorld, text_of
from web.client import client_address, networks


def test_signing_in_and_out_is_in_the_trail(any_web):
    web = any_web
    sam = web.signed_in("sam.alias@ourco.com")
    web.post(sam, "/logout")
    rows = web.audit()
    assert [(r["member"], r["action"], r["object"], r["client_address"]) for r in rows] == [
        ("sam@ourco.com", "sign_out", "", "127.0.0.1"),
        ("sam@ourco.com", "sign_in", "email", "127.0.0.1")]
    assert all(r["time"].endswith("Z") for r in rows)


def test_audit_lists_by_member_and_since(web):
    web.now = utcnow() - timedelta(days=3)
    web.signed_in("ann@ourco.com")
    web.now = None
    web.signed_in("sam@ourco.com")
    assert [r["member"] for r in web.audit()] == ["sam@ourco.com", "ann@ourco.com"]
    assert [r["member"] for r in web.audit("--member", "SAM.ALIAS@ourco.com")] \
        == ["sam@ourco.com"]
    since = (utcnow() - timedelta(days=1)).date().isoformat()
    assert [r["member"] for r in web.audit("--since", since)] == ["sam@ourco.com"]
    table = web.touchlog("audit")
    assert "sign_in" in table and "ann@ourco.com" in table and "client address" in table


def test_a_departed_members_rows_stay(web):
    web.signed_in("sam@ourco.com")
    web.import_team("\n".join(line for line in WEB_TEAM_CSV.splitlines()
                              if not line.startswith("sam@")) + "\n", "--replace")
    assert [r["action"] for r in web.audit("--member", "sam@ourco.com")] == ["sign_in"]


def test_the_client_address_ignores_x_forwarded_for_from_anyone_not_trusted(web):
    web.signed_in("sam@ourco.com", environ={"HTTP_X_FORWARDED_FOR": "203.0.113.9"})
    [row] = web.audit()
    assert row["client_address"] == "127.0.0.1"


def test_behind_a_trusted_proxy_the_client_is_the_address_it_forwarded(tmp_path, smtp_sink):
    web = WebWorld(tmp_path, smtp_sink, metrics_token_env="",
                   trusted_proxies=["127.0.0.1", "10.0.0.0/8"])
    web.signed_in("sam@ourco.com", environ={"HTTP_X_FORWARDED_FOR": "198.51.100.7, 10.0.0.2"})
    [row] = web.audit()
    assert row["client_address"] == "198.51.100.7"


@pytest.mark.parametrize("peer, forwarded, expected", [
    ("127.0.0.1", None, "127.0.0.1"),
    ("127.0.0.1", "203.0.113.9", "203.0.113.9"),
    ("192.0.2.1", "203.0.113.9", "192.0.2.1"),  # not a trusted proxy: its header is a claim
    ("127.0.0.1", "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # the client's own claim is older
    ("127.0.0.1", "203.0.113.9, 10.1.2.3", "203.0.113.9"),  # through two proxies of ours
    ("127.0.0.1", "garbage", "127.0.0.1"),
    ("127.0.0.1", "10.1.2.3", "10.1.2.3"),  # every hop trusted: the first
    ("::1", "2001:db8::7", "2001:db8::7"),
])
def test_client_address(peer, forwarded, expected):
    trusted = networks(["127.0.0.1", "::1", "10.0.0.0/8"])
    assert client_address(peer, forwarded, trusted) == expected
    assert ipaddress.ip_address(client_address(peer, forwarded, ())) == \
        ipaddress.ip_address(peer)


def test_the_audit_page_is_for_admins(any_web):
    web = any_web
    sam, ann = web.signed_in("sam@ourco.com"), web.signed_in("ann@ourco.com")
    refused = sam.get("/audit")
    assert refused.status_code == 403
    assert "sam@ourco.com may not read the audit trail: only an admin (ann@ourco.com) may" \
        in text_of(refused)
    page = ann.get("/audit")
    assert page.status_code == 200
    words = text_of(page)
    assert "sam@ourco.com sign_in email 127.0.0.1" in words
    assert "ann@ourco.com sign_in email 127.0.0.1" in words
    only_sam = text_of(ann.get("/audit?member=sam@ourco.com"))
    assert "sam@ourco.com sign_in" in only_sam and "ann@ourco.com sign_in" not in only_sam
    by_alias = text_of(ann.get("/audit?member=Sam.Alias@ourco.com"))  # as the CLI's --member
    assert "sam@ourco.com sign_in" in by_alias and "ann@ourco.com sign_in" not in by_alias
    tomorrow = (utcnow() + timedelta(days=1)).date().isoformat()
    assert "Nothing recorded for this filter" in text_of(ann.get(f"/audit?since={tomorrow}"))


@pytest.mark.parametrize("query, field", [("since=yesterday", "since"), ("page=0", "page"),
                                          ("page=x", "page"), ("member=" + "x" * 400, "member")])
def test_the_audit_page_names_a_bad_field(web, query, field):
    ann = web.signed_in("ann@ourco.com")
    answer = ann.get(f"/audit?{query}")
    assert answer.status_code == 400
    assert text_of(answer).split("400 ", 1)[1].startswith(f"{field}:")


def test_the_audit_page_goes_back_100_rows_a_page(web):
    from store.access.audit import record

    for i in range(150):
        record("sam@ourco.com", "view", f"touchpoint {i + 1}", "127.0.0.1")
    ann = web.signed_in("ann@ourco.com")
    first = ann.get("/audit").text
    assert first.count("<tr>") == 101  # the header and 100 rows
    assert 'rel="next"' in first and 'rel="prev"' not in first
    second = ann.get("/audit?page=2").text
    assert second.count("<tr>") == 1 + 51  # 150 views and Ann's sign-in
    assert 'href="/audit?page=1" rel="prev"' in second and 'rel="next"' not in second


def test_with_encryption_on_the_trail_names_objects_never_their_text(tmp_path, smtp_sink):
    from store.encryption.keyring import new_key

    (tmp_path / "keys").write_text(new_key() + "\n")
    (tmp_path / "keys").chmod(0o600)
    web = WebWorld(tmp_path, smtp_sink, metrics_token_env="",
                   database={"encryption_key_file": "keys"})
    web.touchlog("touchpoints", "add", "--account", "ACME", "--as", "sam@ourco.com",
                 "--type", "telephone_call", "--subject", "Secret pricing for Acme")
    sam = web.signed_in("sam@ourco.com")
    assert "Acme Corp" in sam.get("/accounts").text
    web.post(sam, "/logout")
    rows = web.audit()
    assert [(r["action"], r["object"]) for r in rows] == [("sign_out", ""), ("sign_in", "email")]
    raw = b"".join(path.read_bytes() for path in tmp_path.glob("touchlog.db*"))  # WAL too
    assert b"Secret pricing" not in raw and b"sign_in" in raw
