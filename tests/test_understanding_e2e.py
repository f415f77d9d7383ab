"""Issue 4 end to end: real-world shapes of mail through Dovecot and `touchlog poll --once`,
checked the way a user sees them (timeline JSON, folders, keywords, `touchlog failures`)."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

from tests.builders import authenticated, make_mail

DATE = format_datetime(datetime(2026, 11, 2, 14, 30, tzinfo=UTC))
SAM = "Sam Seller <sam@ourco.com>"
MAILBOX = "touchpoints@ourco.com"


def _mail(subject: str, body: str, *, sender: str = SAM, to: str = MAILBOX,
          message_id: str | None = None, headers: dict[str, str] | None = None,
          charset: str = "utf-8") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = DATE
    if message_id:
        msg["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body, charset=charset)
    return msg


def _only_touchpoint(world) -> dict:
    [tp] = world.touchpoints()
    return tp


def _emails(tp: dict) -> list[tuple[str, str]]:
    return [(p["email"].lower(), p["role"]) for p in tp["participants"]]


# --- forwards -----------------------------------------------------------------------------------

GMAIL_FORWARD = """FYI, see below.

---------- Forwarded message ---------
From: Wile E. Coyote <wile@acme.com>
Date: Mon, Nov 2, 2026 at 9:00 AM
Subject: Rockets
To: Sam Seller <sam@ourco.com>


Hi Sam, we need ten more rockets by Friday.
"""


def test_inline_gmail_forward_is_logged_on_the_original_senders_account(world):
    world.imap.append(bytes(_mail("Fwd: Rockets", GMAIL_FORWARD,
                                  message_id="<fwd-gmail@ourco.com>")))
    assert world.poll().startswith("logged 1, skipped 0, failed 0")
    tp = _only_touchpoint(world)
    assert (tp["account_id"], tp["scenario"], tp["rule"]) == ("ACME", "forward", "contact")
    assert tp["creator"] == "sam@ourco.com"
    assert _emails(tp) == [("wile@acme.com", "external"), ("sam@ourco.com", "internal")]
    assert tp["participants"][0]["name"] == "Wile E. Coyote"
    assert "ten more rockets" in tp["content"]
    assert len(world.folder_contents("Touchpoints/Logged")) == 1
    assert world.folder_contents("INBOX") == {}


def test_forward_as_attached_message_is_logged_like_an_inline_one(world):
    inner = _mail("Rockets", "Hi Sam, we need ten more rockets by Friday.",
                  sender="Wile E. Coyote <wile@acme.com>", to=SAM,
                  message_id="<orig-1@acme.com>")
    outer = _mail("Fwd: Rockets", "See the attached mail.", message_id="<fwd-att@ourco.com>")
    outer.add_attachment(inner)  # message/rfc822
    assert b"message/rfc822" in bytes(outer)
    world.imap.append(bytes(outer))
    assert world.poll().startswith("logged 1")
    tp = _only_touchpoint(world)
    assert (tp["account_id"], tp["scenario"], tp["rule"]) == ("ACME", "forward", "contact")
    assert tp["creator"] == "sam@ourco.com"
    assert _emails(tp) == [("wile@acme.com", "external"), ("sam@ourco.com", "internal")]
    assert "ten more rockets" in tp["content"]
    assert tp["attachments"] == []  # the forwarded mail is the message, not a file


def test_german_outlook_forward(world):
    body = ("Zur Info.\n\n"
            "-----Ursprüngliche Nachricht-----\n"
            "Von: Wile E. Coyote <wile@acme.com>\n"
            "Gesendet: Montag, 2. November 2026 09:00\n"
            "An: Sam Seller <sam@ourco.com>\n"
            "Cc: Ann Admin <ann@ourco.com>\n"
            "Betreff: Raketen für Freitag\n\n"
            "Hallo Sam, wir brauchen zehn Raketen.\n")
    world.imap.append(bytes(_mail("WG: Raketen für Freitag", body)))
    world.poll()
    tp = _only_touchpoint(world)
    assert (tp["account_id"], tp["scenario"]) == ("ACME", "forward")
    assert tp["subject"] == "WG: Raketen für Freitag"
    assert _emails(tp) == [("wile@acme.com", "external"), ("sam@ourco.com", "internal"),
                           ("ann@ourco.com", "internal")]
    assert "zehn Raketen" in tp["content"]


def test_old_outlook_mailto_form_forward(world):
    body = ("-----Original Message-----\n"
            "From: Wile E. Coyote [mailto:wile@acme.com]\n"
            "Sent: Monday, November 02, 2026 9:00 AM\n"
            "To: Sam Seller\n"
            "Subject: Rockets\n\n"
            "Ten more please.\n")
    world.imap.append(bytes(_mail("FW: Rockets", body)))
    world.poll()
    tp = _only_touchpoint(world)
    assert (tp["account_id"], tp["scenario"], tp["creator"]) == ("ACME", "forward",
                                                               "sam@ourco.com")
    assert _emails(tp)[0] == ("wile@acme.com", "external")


def test_forward_showing_only_names_fails_and_says_so(world):
    body = ("-----Original Message-----\n"
            "From: Wile E. Coyote\n"
            "Sent: Monday, November 2, 2026 9:00 AM\n"
            "To: Sam Seller\n"
            "Subject: Rockets\n\n"
            "Ten more please.\n")
    world.imap.append(bytes(_mail("FW: Rockets", body, message_id="<names-only@ourco.com>")))
    assert "failed 1 (no_customer_address 1)" in world.poll()
    assert world.touchpoints() == []
    [(flags, _raw)] = world.folder_contents("Touchpoints/Failed").values()
    assert "$tl_no_customer_address" in flags
    [failure] = world.failures()
    assert failure["reason"] == "no_customer_address"
    assert failure["message_id"] == "names-only@ourco.com"
    assert "only names" in failure["detail"]
    assert "Wile E. Coyote" in failure["detail"]
    assert "sam@ourco.com" not in failure["detail"]  # the forwarder is never the customer


# --- mail that is not a touchpoint --------------------------------------------------------------


def _bounce() -> bytes:
    return ("From: Mail Delivery System <MAILER-DAEMON@mx.ourco.com>\r\n"
            f"To: {MAILBOX}\r\n"
            "Subject: Undelivered Mail Returned to Sender\r\n"
            f"Date: {DATE}\r\n"
            "Message-ID: <bounce-1@mx.ourco.com>\r\n"
            "MIME-Version: 1.0\r\n"
            'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n'
            "\r\n--B\r\nContent-Type: text/plain\r\n\r\n"
            "This is the mail system. Your message to wile@acme.com bounced.\r\n"
            "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
            "Reporting-MTA: dns; mx.ourco.com\r\n\r\n"
            "Final-Recipient: rfc822; wile@acme.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
            "--B--\r\n").encode()


def test_bounce_autoreply_and_own_notice_are_skipped_into_the_logged_folder(world):
    world.imap.append(_bounce())
    world.imap.append(make_mail(sender="Wile E. Coyote <wile@acme.com>", to=MAILBOX,
                                subject="Out of office: Rockets", message_id="<ooo@acme.com>",
                                headers={"Auto-Submitted": "auto-replied"}))
    world.imap.append(make_mail(sender="touchpoints@ourco.com", to="sam@ourco.com",
                                subject="Touchpoint not logged: Hello",
                                message_id="<notice-1@ourco.com>",
                                headers={"X-Touchlog-Notice": "no_account"}))
    out = world.poll()
    assert out.startswith("logged 0, skipped 3"), out
    assert "failed 0" in out
    for reason in ("bounce", "auto_generated", "own_notice"):
        assert reason in out
    assert world.touchpoints() == []
    assert len(world.folder_contents("Touchpoints/Logged")) == 3
    assert world.folder_contents("Touchpoints/Failed") == {}
    assert world.folder_contents("INBOX") == {}


# --- threads ------------------------------------------------------------------------------------


def test_reply_joins_the_thread_of_the_first_touchpoint(world):
    world.imap.append(make_mail(to="wile@acme.com", subject="Rockets",
                                message_id="<thread-a@ourco.com>"))
    world.poll()
    world.imap.append(make_mail(to="wile@acme.com", subject="Re: Rockets",
                                message_id="<thread-b@ourco.com>",
                                headers={"In-Reply-To": "<thread-a@ourco.com>",
                                         "References": "<thread-a@ourco.com>"}))
    world.poll()
    # A third, replying to the second and naming the first with its host in capitals.
    world.imap.append(make_mail(to="wile@acme.com", subject="Re: Re: Rockets",
                                message_id="<thread-c@ourco.com>",
                                headers={"In-Reply-To": "<thread-b@OurCo.COM>",
                                         "References": "<thread-a@OURCO.COM>"}))
    world.poll()
    by_mid = {tp["message_id"]: tp for tp in world.touchpoints()}
    first, second, third = (by_mid[f"thread-{n}@ourco.com"] for n in "abc")
    assert first["thread_id"] == first["id"]
    assert second["thread_id"] == first["thread_id"]
    assert third["thread_id"] == first["thread_id"]
    assert second["account_id"] == first["account_id"] == third["account_id"] == "ACME"


# --- text, charsets, size, attachments -----------------------------------------------------------


def test_html_only_message_is_stored_as_readable_text(world):
    msg = EmailMessage()
    msg["From"] = SAM
    msg["To"] = "wile@acme.com"
    msg["Subject"] = "Quote"
    msg["Date"] = DATE
    msg.set_content("<html><body><p>Hello <b>Wile</b>,</p><ul><li>ten rockets</li>"
                    "<li>one anvil</li></ul><p>Regards</p></body></html>", subtype="html")
    world.imap.append(bytes(msg))
    world.poll()
    tp = _only_touchpoint(world)
    content = tp["content"]
    assert "Wile" in content and "ten rockets" in content and "one anvil" in content
    assert "<" not in content and ">" not in content


def test_latin1_body_and_encoded_subject_are_decoded(world):
    raw = ("From: Sam Seller <sam@ourco.com>\r\n"
           "To: wile@acme.com\r\n"
           "Subject: =?ISO-8859-1?Q?R=E9sum=E9_f=FCr_Gr=FC=DFe?=\r\n"
           f"Date: {DATE}\r\n"
           "MIME-Version: 1.0\r\n"
           "Content-Type: text/plain; charset=ISO-8859-1\r\n"
           "Content-Transfer-Encoding: 8bit\r\n\r\n").encode() + \
        "Grüße aus Köln, voilà le café.\r\n".encode("iso-8859-1")
    world.imap.append(raw)
    world.poll()
    tp = _only_touchpoint(world)
    assert tp["subject"] == "Résumé für Grüße"
    assert "Grüße aus Köln, voilà le café." in tp["content"]


def test_iso_2022_jp_body_and_subject_are_decoded(world):
    subject = "見積もりの件"
    body = "コヨーテ様、ロケットの見積もりです。"
    encoded_subject = "=?ISO-2022-JP?B?" + base64.b64encode(
        subject.encode("iso-2022-jp")).decode() + "?="
    raw = ("From: Sam Seller <sam@ourco.com>\r\n"
           "To: wile@acme.com\r\n"
           f"Subject: {encoded_subject}\r\n"
           f"Date: {DATE}\r\n"
           "MIME-Version: 1.0\r\n"
           "Content-Type: text/plain; charset=ISO-2022-JP\r\n"
           "Content-Transfer-Encoding: 7bit\r\n\r\n").encode() + \
        body.encode("iso-2022-jp") + b"\r\n"
    world.imap.append(raw)
    world.poll()
    tp = _only_touchpoint(world)
    assert tp["subject"] == subject
    assert body in tp["content"]


def test_long_content_is_cut_with_a_visible_marker(world):
    world.write_settings(touchpoints={"max_content_chars": 100})
    world.imap.append(make_mail(to="wile@acme.com", body="rocket " * 200))
    world.poll()
    tp = _only_touchpoint(world)
    assert tp["content"].startswith("rocket rocket")
    assert "cut by touchlog" in tp["content"]
    kept, _, marker = tp["content"].partition("\n\n[")
    assert len(kept) == 100
    assert str(len(("rocket " * 200).strip()) - 100) in marker


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + bytes(range(256)) * 4


def _with_pdf(message_id: str, filename: str = "quote.pdf") -> bytes:
    msg = _mail("Quote", "Quote attached.", to="wile@acme.com", message_id=message_id)
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename=filename)
    return bytes(msg)


def test_pdf_attachment_is_listed_and_stored_once(world):
    world.imap.append(_with_pdf("<pdf-1@ourco.com>"))
    world.imap.append(_with_pdf("<pdf-2@ourco.com>", filename="Angebot für Acme.pdf"))
    assert world.poll().startswith("logged 2")
    digest = hashlib.sha256(PDF).hexdigest()
    by_mid = {tp["message_id"]: tp for tp in world.touchpoints()}
    assert by_mid["pdf-1@ourco.com"]["attachments"] == [
        {"filename": "quote.pdf", "content_type": "application/pdf", "size": len(PDF),
         "sha256": digest}]
    [second] = by_mid["pdf-2@ourco.com"]["attachments"]
    assert second["filename"] == "Angebot für Acme.pdf"
    assert second["sha256"] == digest
    stored = [p for p in (world.folder / "attachments").rglob("*") if p.is_file()]
    assert len(stored) == 1
    assert stored[0].name == digest
    assert stored[0].read_bytes() == PDF


# --- failures -----------------------------------------------------------------------------------


def test_empty_message_from_a_team_member_fails_empty(world):
    world.imap.append(make_mail(to=MAILBOX, subject="", body="", message_id="<empty@ourco.com>"))
    assert "failed 1 (empty 1)" in world.poll()
    [(flags, _raw)] = world.folder_contents("Touchpoints/Failed").values()
    assert "$tl_empty" in flags
    [failure] = world.failures()
    assert failure["reason"] == "empty"


def test_internal_only_mail_fails_no_customer_address(world):
    world.imap.append(make_mail(to="Ann Admin <ann@ourco.com>", subject="Lunch?",
                                body="Shall we get lunch?", message_id="<internal@ourco.com>"))
    assert "failed 1 (no_customer_address 1)" in world.poll()
    assert world.touchpoints() == []
    [(flags, _raw)] = world.folder_contents("Touchpoints/Failed").values()
    assert "$tl_no_customer_address" in flags
    [failure] = world.failures()
    assert failure["reason"] == "no_customer_address"
    assert failure["sender"] == "sam@ourco.com"


# --- process --dry-run --------------------------------------------------------------------------


def test_process_dry_run_on_a_forward_prints_the_decision_and_writes_nothing(world):
    eml = world.folder / "forward.eml"
    eml.write_bytes(authenticated(bytes(_mail("Fwd: Rockets", GMAIL_FORWARD,
                                              message_id="<dry@ourco.com>"))))
    out = world.touchlog("process", str(eml), "--dry-run").output
    assert "outcome:  logged (contact)" in out
    assert "scenario: forward" in out
    assert "account:  ACME" in out
    assert "dry run: nothing written" in out
    assert world.touchpoints() == []
    assert world.touchlog("explain", "dry@ourco.com", expect=1).exit_code == 1
    assert not (world.folder / "attachments").exists() or not any(
        (world.folder / "attachments").rglob("*"))
    # ...and the same file without --dry-run is logged once.
    out = world.touchlog("process", str(eml)).output
    assert "recorded: logged" in out
    assert [tp["scenario"] for tp in world.touchpoints()] == ["forward"]



# --- more shapes of real mail -------------------------------------------------------------------


def test_html_only_outlook_forward_is_read_from_the_html(world):
    msg = EmailMessage()
    msg["From"] = SAM
    msg["To"] = MAILBOX
    msg["Subject"] = "FW: Rockets"
    msg["Date"] = DATE
    msg.set_content(
        "<html><body><p>FYI</p><div style='border-top:solid #E1E1E1 1.0pt'>"
        "<p><b>From:</b> Wile E. Coyote &lt;wile@acme.com&gt;<br>"
        "<b>Sent:</b> Monday, November 2, 2026 9:00 AM<br>"
        "<b>To:</b> Sam Seller &lt;sam@ourco.com&gt;<br>"
        "<b>Subject:</b> Rockets</p></div><p>Ten more please.</p></body></html>",
        subtype="html")
    world.imap.append(bytes(msg))
    world.poll()
    tp = _only_touchpoint(world)
    assert (tp["account_id"], tp["scenario"]) == ("ACME", "forward")
    assert _emails(tp)[0] == ("wile@acme.com", "external")
    assert "Ten more please." in tp["content"] and "<b>" not in tp["content"]


def test_forward_of_a_forward_uses_the_innermost_customer(world):
    body = ("Sam, this one is for you.\n\n"
            "---------- Forwarded message ---------\n"
            "From: Ann Admin <ann@ourco.com>\n"
            "Date: Mon, Nov 2, 2026 at 10:00 AM\n"
            "Subject: Fwd: Rockets\n"
            "To: Sam Seller <sam@ourco.com>\n\n"
            "---------- Forwarded message ---------\n"
            "From: Road Runner <beep@road.com>\n"
            "Date: Mon, Nov 2, 2026 at 9:00 AM\n"
            "Subject: Rockets\n"
            "To: Ann Admin <ann@ourco.com>\n\n"
            "Beep beep.\n")
    world.imap.append(bytes(_mail("Fwd: Fwd: Rockets", body)))
    world.poll()
    tp = _only_touchpoint(world)
    assert (tp["account_id"], tp["scenario"], tp["creator"]) == ("ROAD", "forward",
                                                               "sam@ourco.com")
    assert _emails(tp) == [("beep@road.com", "external"), ("ann@ourco.com", "internal")]


def test_forward_by_an_alias_of_our_own_mail_to_the_customer(world):
    # Ann wrote to Wile; Sam (from an alias) forwards it: Wile is the customer, Sam the creator.
    body = ("-----Original Message-----\n"
            "From: Ann Admin <ann@ourco.com>\n"
            "Sent: Monday, November 2, 2026 9:00 AM\n"
            "To: Wile E. Coyote <wile@acme.com>\n"
            "Subject: Rockets\n\n"
            "Wile, they ship Monday.\n")
    world.imap.append(bytes(_mail("FW: Rockets", body, sender="Sam <sam.alias@ourco.com>")))
    world.poll()
    tp = _only_touchpoint(world)
    assert (tp["account_id"], tp["scenario"], tp["creator"]) == ("ACME", "forward",
                                                               "sam@ourco.com")
    assert _emails(tp) == [("ann@ourco.com", "internal"), ("wile@acme.com", "external")]


def test_reply_quoting_another_customer_is_a_copy_to_the_addressee(world):
    body = ("Hi Wile, see Hank's note below.\n\n"
            "-----Original Message-----\n"
            "From: Hank <hank@globex.com>\n"
            "Sent: Monday, November 2, 2026 9:00 AM\n"
            "To: Sam Seller <sam@ourco.com>\n"
            "Subject: Anvils\n\n"
            "We have anvils.\n")
    world.imap.append(bytes(_mail("Re: Anvils", body, to="Wile E. Coyote <wile@acme.com>")))
    world.poll()
    tp = _only_touchpoint(world)
    assert (tp["account_id"], tp["scenario"], tp["rule"]) == ("ACME", "copy", "contact")
    assert {e for e, _ in _emails(tp)} == {"sam@ourco.com", "wile@acme.com"}


def test_attachment_inside_an_attached_forward_is_kept(world):
    inner = _mail("Quote", "Our quote attached.", sender="Wile E. Coyote <wile@acme.com>",
                  to=SAM, message_id="<orig-pdf@acme.com>")
    inner.add_attachment(PDF, maintype="application", subtype="pdf", filename="acme-quote.pdf")
    outer = _mail("Fwd: Quote", "Forwarding Wile's quote.")
    outer.add_attachment(inner)
    world.imap.append(bytes(outer))
    world.poll()
    tp = _only_touchpoint(world)
    assert (tp["account_id"], tp["scenario"]) == ("ACME", "forward")
    assert [(a["filename"], a["sha256"]) for a in tp["attachments"]] == [
        ("acme-quote.pdf", hashlib.sha256(PDF).hexdigest())]


def test_reply_on_another_account_does_not_join_the_thread(world):
    world.imap.append(make_mail(to="wile@acme.com", message_id="<x-a@ourco.com>"))
    world.poll()
    world.imap.append(make_mail(to="beep@road.com", subject="Re: Pricing follow-up",
                                message_id="<x-b@ourco.com>",
                                headers={"In-Reply-To": "<x-a@ourco.com>"}))
    world.imap.append(make_mail(to="wile@acme.com", subject="Re: Pricing follow-up",
                                message_id="<x-c@ourco.com>",
                                headers={"In-Reply-To": "<x-b@ourco.com>",
                                         "References": "<x-a@ourco.com> <x-b@ourco.com>"}))
    world.poll()
    by_mid = {tp["message_id"]: tp for tp in world.touchpoints()}
    a, b, c = (by_mid[f"x-{n}@ourco.com"] for n in "abc")
    assert b["account_id"] == "ROAD" and b["thread_id"] == b["id"]
    assert c["thread_id"] == a["id"]


def test_missing_and_absurd_dates_fall_back_to_the_internal_date(world):
    world.imap.append(make_mail(to="wile@acme.com", date=None, message_id="<nodate@ourco.com>"))
    world.imap.append(make_mail(to="wile@acme.com", message_id="<absurd@ourco.com>",
                                date=datetime(1970, 1, 1, tzinfo=UTC)))
    world.poll()
    for tp in world.touchpoints():
        # The IMAP internal date: the APPEND just now, not 1970 and not empty.
        occurred = datetime.fromisoformat(tp["occurred_at"].replace("Z", "+00:00"))
        assert abs((datetime.now(UTC) - occurred).total_seconds()) < 600, tp
