"""poller.understand.trust: SPEC 11's `aligned`, the topmost trusted header only, and one author."""

from __future__ import annotations

import functools

import pytest

from core.sections import TrustSettings
from poller.mail.message import parse_message
from poller.understand.suffixes import organisational_domain
from poller.understand.trust import authenticate
from tests.test_authres import AMAVIS, GMAIL, MICROSOFT, MICROSOFT_FAIL, OPENDKIM, RSPAMD

TEAM = {"sam@ourco.com", "ann@ourco.com"}


def mail(*results: str, sender: str = "Sam <sam@ourco.com>", extra: str = "") -> bytes:
    """Authentication-Results headers top first, as the mailbox receives them."""
    head = "".join(f"Authentication-Results: {r}\r\n" for r in results)
    return (f"{head}From: {sender}\r\n{extra}To: wile@acme.com\r\nSubject: Pricing\r\n"
            "Message-ID: <t1@ourco.com>\r\n\r\nHi Wile\r\n").encode()


def check(raw: bytes, *ids: str, require: str = "aligned") -> str | None:
    failure = authenticate(parse_message(raw), TrustSettings(tuple(ids), require),
                           lambda address: address in TEAM)
    return failure.detail if failure else None


@pytest.mark.parametrize("header, authserv_id", [
    (GMAIL, "mx.google.com"), (RSPAMD, "mx.ourco.com"), (OPENDKIM, "lists.ourco.com"),
    (AMAVIS, "mail.ourco.com"), (MICROSOFT, "(none)"),
])
def test_a_trusted_servers_pass_authenticates(header, authserv_id):
    assert check(mail(header), authserv_id) is None
    assert check(mail(header), "MX.Elsewhere.example") is not None  # not listed: not believed


def test_microsoft_365_form_fails_when_it_says_fail():
    detail = check(mail(MICROSOFT_FAIL), "(none)")
    assert "did not authenticate ourco.com" in detail and "dmarc=fail" in detail


def test_microsoft_365_form_counts_only_as_the_topmost_header():
    # An attacker's own header without an authserv-id, below the real server's verdict.
    raw = mail("mx.google.com; dmarc=fail header.from=ourco.com", MICROSOFT)
    assert check(raw, "(none)") is not None
    assert "dmarc=fail" in check(raw, "(none)", "mx.google.com")


def test_an_injected_header_below_the_trusted_one_is_ignored():
    raw = mail("mx.ourco.com; dmarc=fail header.from=ourco.com; "
               "spf=fail smtp.mailfrom=evil.example",
               "mx.ourco.com; dmarc=pass header.from=ourco.com")
    detail = check(raw, "mx.ourco.com")
    assert detail == ("mx.ourco.com did not authenticate ourco.com: it says dmarc=fail "
                      "header.from=ourco.com; spf=fail smtp.mailfrom=evil.example")


def test_an_untrusted_header_above_does_not_hide_the_trusted_one():
    raw = mail("relay.example.net; dmarc=fail", "mx.ourco.com; dmarc=pass header.from=ourco.com")
    assert check(raw, "mx.ourco.com") is None


@pytest.mark.parametrize("result, passes", [
    ("dkim=pass header.d=ourco.com", True),
    ("dkim=pass header.d=mail.ourco.com", True),  # relaxed: the organisational domain
    ("dkim=pass header.i=@sales.ourco.com", True),
    ("dkim=pass header.d=evil.example", False),  # a DKIM pass for another domain
    ("dkim=pass header.d=ourco.com.evil.example", False),
    ("dkim=pass header.d=com", False),
    ("dkim=fail header.d=ourco.com", False),
    ("spf=pass smtp.mailfrom=bounce@ourco.com", True),
    ("spf=pass smtp.mailfrom=evil.example", False),
    ("spf=softfail smtp.mailfrom=ourco.com", False),
    ("dmarc=pass header.from=ourco.com", True),
    ("dmarc=pass header.from=evil.example", False),
    ("dmarc=temperror header.from=ourco.com", False),
    ("dmarc=none header.from=ourco.com", False),
    ("spf=fail (dmarc=pass header.from=ourco.com) smtp.mailfrom=evil.example", False),
])
def test_aligned(result, passes):
    assert (check(mail(f"mx.ourco.com; {result}"), "mx.ourco.com") is None) == passes


def test_a_subdomain_sender_aligns_with_its_organisation():
    raw = mail("mx.ourco.com; dkim=pass header.d=ourco.com", sender="sam@sales.ourco.com")
    assert check(raw, "mx.ourco.com") is None
    assert organisational_domain("a.b.ourco.co.uk") == "ourco.co.uk"


def test_a_missing_header_fails():
    assert check(mail(), "mx.ourco.com") == (
        "no Authentication-Results header of a trusted server (authserv_ids: mx.ourco.com); "
        "the message carries no Authentication-Results header")


def test_no_authserv_ids_configured_names_the_ones_seen():
    detail = check(mail(GMAIL, "relay.example.net; none"))
    assert "no [trust] authserv_ids are configured" in detail
    assert "come from mx.google.com, relay.example.net" in detail
    assert 'set authserv_ids = ["mx.google.com"]' in detail


def test_require_none_switches_the_verdict_off_but_not_one_author():
    assert check(mail(), require="none") is None
    two = mail(GMAIL, sender="sam@ourco.com, mallory@evil.example")
    assert "names 2 addresses" in check(two, require="none")


@pytest.mark.parametrize("sender, extra, words", [
    ("Sam <sam@ourco.com>, Mallory <mallory@evil.example>", "",
     "the From header names 2 addresses (sam@ourco.com, mallory@evil.example)"),
    ("sam@ourco.com", "From: mallory@evil.example\r\n", "the message has 2 From headers"),
    ("sam@ourco.com", "Sender: mallory@evil.example\r\n",
     "the Sender header names mallory@evil.example, who is neither"),
])
def test_a_message_without_exactly_one_author_is_credited_to_none(sender, extra, words):
    raw = mail("mx.ourco.com; dmarc=pass header.from=ourco.com", sender=sender, extra=extra)
    assert words in check(raw, "mx.ourco.com")


@pytest.mark.parametrize("extra", ["Sender: ann@ourco.com\r\n", "Sender: SAM@ourco.com\r\n"])
def test_a_sender_who_is_the_from_or_a_team_member_is_fine(extra):
    raw = mail("mx.ourco.com; dmarc=pass header.from=ourco.com", extra=extra)
    assert check(raw, "mx.ourco.com") is None


def test_no_from_at_all_is_left_to_the_team_check():
    raw = b"To: wile@acme.com\r\nSubject: x\r\n\r\nbody\r\n"
    assert check(raw, "mx.ourco.com") is None


@pytest.mark.parametrize("domain", [
    "ourco.com", "mail.sales.ourco.com", "a.b.ourco.co.uk", "co.uk", "localhost", "x.github.io",
    "github.io", "www.ck", "a.b.ck", "city.kawasaki.jp", "a.city.kawasaki.jp", "evil.example",
    "xn--85x722f.xn--55qx5d.cn", "a.b.c.kawasaki.jp", "Mail.OurCo.COM.",
])
def test_organisational_domain_agrees_with_the_publicsuffixlist_package(domain):
    plain = domain.lower().rstrip(".")
    assert organisational_domain(domain) == (_psl().privatesuffix(plain) or plain)


@functools.cache
def _psl():
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


def test_the_shipped_list_reads_as_whole_lines():
    from poller.understand import suffixes

    lines = [line.decode("utf-8") for line in suffixes._list()]
    rules = {line for line in lines if line and not line.startswith("//")}
    assert {"com", "co.uk", "*.ck", "!www.ck", "github.io"} <= rules
    assert all(line == line.strip() for line in lines)
