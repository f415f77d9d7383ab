"""poller.understand.authres: Authentication-Results as real servers write them (RFC 8601).

The samples keep each server's own layout — folding, comments, quoting, Microsoft's missing
authserv-id and stray segments — with the domains changed to the test's own.
"""

from __future__ import annotations

import pytest

from poller.understand.authres import NO_AUTHSERV_ID, parse

GMAIL = """mx.google.com;
       dkim=pass header.i=@ourco.com header.s=20230601 header.b=fpxRepVP;
       spf=pass (google.com: domain of sam@ourco.com designates 209.85.220.41 as permitted sender) smtp.mailfrom=sam@ourco.com;
       dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=ourco.com"""  # noqa: E501
# Microsoft 365 (Exchange Online Protection): no authserv-id, and `;ourco.com;` strays.
MICROSOFT = """spf=pass (sender IP is 40.107.22.59)
 smtp.mailfrom=ourco.com; dkim=pass (signature was verified)
 header.d=ourco.com;dmarc=pass action=none
 header.from=ourco.com;compauth=pass reason=100"""
MICROSOFT_FAIL = """spf=none (sender IP is 185.132.181.12)
 smtp.helo=dispatch.evil.example; dkim=none (message not signed)
 header.d=none;ourco.com; dmarc=fail action=none
 header.from=ourco.com;compauth=softpass reason=202"""
RSPAMD = """mx.ourco.com;
\tdkim=pass header.d=ourco.com header.s=google header.b=P2oVs5Ao;
\tspf=pass (mx.ourco.com: domain of "bounces+23269=ourco.com@lists.example.org" designates 2600:3c0a:e001:db::12fc:5321 as permitted sender) smtp.mailfrom="bounces+23269=ourco.com@lists.example.org";
\tdmarc=pass (policy=reject) header.from=ourco.com;
\tarc=pass ("lists.example.org:s=arc-20240116:i=1")"""  # noqa: E501
OPENDMARC = "smtp.ourco.com; dmarc=pass (p=none dis=none) header.from=ourco.com"
OPENDKIM = """lists.ourco.com;
\tdkim=pass (2048-bit key; unprotected) header.d=ourco.com header.i=@ourco.com header.a=rsa-sha256 header.s=20221208 header.b=p9s9prTX;
\tdkim-atps=neutral"""  # noqa: E501
AMAVIS = """mail.ourco.com (amavisd-new); dkim=pass
        reason="pass (just generated, assumed good)"
        header.d=ourco.com"""


def methods(value: str) -> dict[str, str]:
    return {r.method: r.result for r in parse(value).results}


@pytest.mark.parametrize("value, authserv_id, expected", [
    (GMAIL, "mx.google.com", {"dkim": "pass", "spf": "pass", "dmarc": "pass"}),
    (MICROSOFT, NO_AUTHSERV_ID, {"spf": "pass", "dkim": "pass", "dmarc": "pass",
                                 "compauth": "pass"}),
    (MICROSOFT_FAIL, NO_AUTHSERV_ID, {"spf": "none", "dkim": "none", "dmarc": "fail",
                                      "compauth": "softpass"}),
    (RSPAMD, "mx.ourco.com", {"dkim": "pass", "spf": "pass", "dmarc": "pass", "arc": "pass"}),
    (OPENDMARC, "smtp.ourco.com", {"dmarc": "pass"}),
    (OPENDKIM, "lists.ourco.com", {"dkim": "pass", "dkim-atps": "neutral"}),
    (AMAVIS, "mail.ourco.com", {"dkim": "pass"}),
])
def test_real_servers_headers(value, authserv_id, expected):
    header = parse(value)
    assert header.authserv_id == authserv_id
    assert methods(value) == expected


def test_properties_are_read_and_unquoted():
    header = parse(RSPAMD)
    [spf] = header.of("spf")
    assert spf.props["smtp.mailfrom"] == "bounces+23269=ourco.com@lists.example.org"
    [dkim] = parse(GMAIL).of("dkim")
    assert dkim.props["header.i"] == "@ourco.com"
    [amavis] = parse(AMAVIS).of("dkim")
    assert amavis.props == {"reason": "pass (just generated, assumed good)",
                            "header.d": "ourco.com"}


def test_comments_never_carry_results():
    value = ("mx.ourco.com; spf=fail (dmarc=pass header.from=ourco.com; dkim=pass "
             "(nested) header.d=ourco.com) smtp.mailfrom=evil.example")
    [spf] = parse(value).results
    assert (spf.method, spf.result, spf.props) == ("spf", "fail",
                                                   {"smtp.mailfrom": "evil.example"})


def test_quoted_semicolons_and_parentheses_stay_in_their_value():
    value = 'mx.ourco.com; dkim=pass reason="a; b (c" header.d=ourco.com; dmarc=fail'
    assert methods(value) == {"dkim": "pass", "dmarc": "fail"}
    assert parse(value).of("dkim")[0].props["header.d"] == "ourco.com"


def test_folding_version_and_spaces_around_equals():
    value = "mx.ourco.com 1;\r\n\tdkim = pass\r\n header.d = ourco.com"
    header = parse(value)
    assert header.authserv_id == "mx.ourco.com"
    assert header.of("dkim")[0].props == {"header.d": "ourco.com"}


@pytest.mark.parametrize("value", ["", "   ", "mx.ourco.com; none", "mx.ourco.com",
                                   "garbage ;;; (((", "mx.ourco.com; =pass; dkim"])
def test_nothing_readable_means_no_results(value):
    assert parse(value).results == ()


def test_yahoo_style_leftovers_after_the_id_are_not_results():
    value = "mta1247.mail.bf1.yahoo.com  from=ourco.com; domainkeys=pass (ok); dkim=pass (ok)"
    header = parse(value)
    assert header.authserv_id == "mta1247.mail.bf1.yahoo.com"
    assert methods(value) == {"domainkeys": "pass", "dkim": "pass"}


def test_microsoft_null_sender():
    header = parse("spf=none (sender IP is ) smtp.mailfrom=<>; ")
    assert header.authserv_id == NO_AUTHSERV_ID
    assert header.of("spf")[0].props == {"smtp.mailfrom": "<>"}
