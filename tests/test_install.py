"""Trust that works on the day of install (SPEC 20): `poll` does not start with a trust setting
that would fail every message, and Microsoft 365's own mail is believed as Exchange stamps it.
Through a real Dovecot and SMTP sink."""

from __future__ import annotations

import json

import pytest

from tests.builders import TEST_AUTHSERV_ID, make_mail

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def _untouched(world, inbox: dict) -> None:
    assert world.folder_contents("INBOX") == inbox
    assert set(world.imap.folders()) == {"INBOX"}  # not even the folders were made
    assert world.smtp.messages == []
    assert json.loads(world.touchlog("runs", "--format", "json").output) == []


@pytest.mark.parametrize("args", [("--once",), ()], ids=["once", "scheduled"])
def test_poll_does_not_start_when_no_verdict_could_be_trusted(world_with_smtp, args):
    world = world_with_smtp
    world.write_settings(trust={"authserv_ids": [], "require": "aligned"})
    world.imap.append(make_mail(to="wile@acme.com", message_id="<a@ourco.com>"))
    world.imap.append(make_mail(to="beep@road.com", message_id="<b@ourco.com>"))
    inbox = world.folder_contents("INBOX")
    proc = world.spawn("poll", *args)
    output = proc.communicate(timeout=60)[0]
    assert proc.returncode == 1, output
    [line] = output.splitlines()
    assert line.startswith('touchlog: trust.authserv_ids is empty with trust.require = "aligned"')
    assert f"carry Authentication-Results of {TEST_AUTHSERV_ID} (2)" in line
    assert f'set authserv_ids = ["{TEST_AUTHSERV_ID}"]' in line
    _untouched(world, inbox)


def test_the_refusal_says_so_when_the_inbox_shows_no_verdict(world_with_smtp):
    world = world_with_smtp
    world.write_settings(trust={"authserv_ids": []})
    world.imap.append(make_mail(to="wile@acme.com", auth=None), authenticate=False)
    inbox = world.folder_contents("INBOX")
    said = world.touchlog("poll", "--once", expect=1).output.strip()
    assert "none of the 1 newest messages in INBOX carries an Authentication-Results" in said
    assert len(said.splitlines()) == 1
    _untouched(world, inbox)


def test_require_none_still_polls(world):
    world.write_settings(trust={"authserv_ids": [], "require": "none"})
    world.imap.append(make_mail(to="wile@acme.com"))
    assert world.poll().startswith("logged 1")


# --- Microsoft 365: mail sent inside the tenant says dmarc=none --------------------------------

M365_NONE = ("dkim=none (message not signed) header.d=none;dmarc=none action=none "
             "header.from=ourco.com;")
STAMPS = {"X-MS-Exchange-Organization-AuthAs": "Internal",
          "X-MS-Exchange-Organization-MessageDirectionality": "Originating",
          "X-MS-Exchange-CrossTenant-Id": TENANT}


def _inside_tenant(stamps: dict[str, str] | None = None, sender: str = "Sam <sam@ourco.com>",
                   message_id: str = "<m365@ourco.com>", extra: bytes = b"",
                   to: str = "wile@acme.com") -> bytes:
    """A seller's copy as it lands in a Microsoft 365 mailbox of the tenant: Microsoft's
    Authentication-Results without an authserv-id on top, Exchange's stamps further down."""
    raw = make_mail(sender=sender, to=to, message_id=message_id, auth=None,
                    headers=STAMPS if stamps is None else stamps)
    return f"Authentication-Results: {M365_NONE}\n".encode() + extra + raw


def _m365(world, tenant: str = TENANT) -> None:
    world.write_settings(trust={"authserv_ids": ["(none)"], "microsoft365_tenant_id": tenant})


def test_mail_exchange_stamped_inside_the_tenant_is_logged(world):
    _m365(world)
    world.imap.append(_inside_tenant(), authenticate=False)
    assert world.poll().startswith("logged 1, skipped 0, failed 0")
    assert world.touchpoints()[0]["creator"] == "sam@ourco.com"


def test_assigning_such_mail_by_hand_credits_its_sender(world):
    """`failures assign` judges the sender by the same rule as the pass: Exchange's stamp
    proves sam, so sam, not the admin who assigns it, is the creator."""
    _m365(world)
    world.imap.append(_inside_tenant(to="someone@prospect.example"), authenticate=False)
    assert "failed 1 (no_account 1)" in world.poll()
    [failure] = world.failures()
    world.touchlog("failures", "assign", str(failure["uid"]), "--account", "ACME", "--as",
                   "ann@ourco.com")
    assert world.touchpoints()[0]["creator"] == "sam@ourco.com"


def test_without_the_tenant_id_such_mail_fails_as_before(world):
    _m365(world, tenant="")
    world.imap.append(_inside_tenant(), authenticate=False)
    assert "failed 1 (unauthenticated_sender 1)" in world.poll()
    assert "dmarc=none header.from=ourco.com" in world.failures()[0]["detail"]


@pytest.mark.parametrize(("name", "stamps", "sender", "extra"), [
    ("another tenant", {**STAMPS, "X-MS-Exchange-CrossTenant-Id": "0000-evil"}, None, b""),
    ("not authenticated", {**STAMPS, "X-MS-Exchange-Organization-AuthAs": "Anonymous"},
     None, b""),
    ("from outside", {**STAMPS, "X-MS-Exchange-Organization-MessageDirectionality": "Incoming"},
     None, b""),
    ("a stamp missing", {k: v for k, v in STAMPS.items() if "AuthAs" not in k}, None, b""),
    ("a second stamp, written by someone else", STAMPS, None,
     b"X-MS-Exchange-Organization-AuthAs: Anonymous\n"),
    ("a From outside internal_domains", STAMPS, "Wile <wile@acme.com>", b""),
])
def test_mail_not_stamped_exactly_as_exchange_stamps_it_is_not_believed(world, name, stamps,
                                                                         sender, extra):
    _m365(world)
    raw = _inside_tenant(stamps, sender or "Sam <sam@ourco.com>", extra=extra)
    world.imap.append(raw, authenticate=False)
    summary = world.poll()
    assert "logged 0" in summary and "failed 1" in summary, (name, summary)
