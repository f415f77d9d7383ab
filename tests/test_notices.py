"""Failure notices against a real SMTP server (aiosmtpd) and a real SQLite database."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from core.errors import NoticeError
from core.sections import NotifySettings
from core.settings import Settings
from poller.notify import notices
from poller.notify.notice_text import compose
from poller.notify.notices import NoticeReport, queue_notice, send_pending
from poller.notify.recipients import INTERNAL, should_notify
from poller.notify.smtp import check_smtp
from store.db import open_database
from store.ledger.models import MessageRecord, Notice
from tests.smtpsink import SmtpSink, free_port

T0 = datetime(2024, 5, 6, 9, 0, 0)
SENDER = "ann@ourco.com"


@pytest.fixture
def db(tmp_path):
    database = open_database(f"sqlite:///{tmp_path / 'touchlog.db'}")
    yield database
    database.close()


def settings_for(sink: SmtpSink, base_dir: Path = Path("."), **notify: object) -> Settings:
    values = {"smtp_host": sink.host, "smtp_port": sink.port, "smtp_tls": "none",
              "from_address": "touchpoints@ourco.com", **notify}
    return Settings(notify=NotifySettings(**values), base_dir=base_dir)


def failed_message(key: str = "m1@cust.com", reason: str = "no_account", to: str = SENDER,
                   subject: str = "Renewal call", candidates: tuple[str, ...] = ("jill@cust.com",),
                   ) -> Notice:
    record = MessageRecord.create(key=key, message_id=key, outcome="failed", reason=reason,
                                  detail="", sender=to, subject=subject)
    notice_subject, body = compose(reason, "", subject, candidates, None)
    return queue_notice(record, to, notice_subject, body, key, kind=INTERNAL)


def reload(notice: Notice) -> Notice:
    return Notice.get_by_id(notice.id)


# --- what a notice says -----------------------------------------------------------------------

REASON_TEXTS = {
    "unknown_sender": ("not a touchlog team member", "alias"),
    "no_customer_address": ("no customer", "Bcc or Cc"),
    "plus_address": ("+extension", "plain address"),
    "no_account": ("No account", "matches the contact's address in touchlog exactly"),
    "ambiguous_account": ("Several accounts match", "default flag (default_bcc)"),
    "empty": ("no subject and no text", "Add a subject or some text"),
    "parse_error": ("could not read the message", "kept, unchanged, in the failed folder"),
}


@pytest.mark.parametrize("reason", sorted(REASON_TEXTS))
def test_compose_says_reason_candidates_detail_and_fix(reason):
    subject, body = compose(reason, "tried jill@cust.com", "Renewal  call",
                            ["jill@cust.com", "bob@cust.com"], None)
    why, fix = REASON_TEXTS[reason]
    assert subject == "Touchpoint not logged: Renewal call"
    assert why in body and fix in body
    assert "  - jill@cust.com\n  - bob@cust.com\n" in body
    assert "Detail: tried jill@cust.com" in body


def test_fixes_match_the_reference_resolutions():
    _, no_account = compose("no_account", "", "s", ["jill@cust.com"], None)
    _, ambiguous = compose("ambiguous_account", "", "s", ["jill@cust.com"], None)
    _, no_customer = compose("no_customer_address", "", "s", [], None)
    assert "log the touchpoint by hand" in no_account and "add the person" in no_account
    assert "Keep the contact on one account" in ambiguous and "by hand" in ambiguous
    assert "forward it with the original From/To/Cc" in no_customer
    assert "customer's address in the subject" in no_customer


def test_empty_subject_reads_no_subject():
    subject, body = compose("empty", "", "  ", [], None)
    assert subject == "Touchpoint not logged: (no subject)"
    assert "Addresses considered:\n  (none)" in body


def test_names_only_forward_suggests_attaching():
    _, body = compose("no_customer_address", "forwarded headers have names only", "Fwd: hi",
                      [], None)
    assert "forward the message as an attachment" in body
    _, plain = compose("no_customer_address", "", "Fwd: hi", [], None)
    assert "as an attachment" not in plain


def test_candidates_fall_back_to_trace():
    trace = {"candidates": [{"address": "jill@cust.com", "lookup": "jill@cust.com"}]}
    _, body = compose("no_account", "", "s", [], trace)
    assert "  - jill@cust.com\n" in body


def test_unknown_reason_still_gets_a_notice():
    subject, body = compose("something_new", "", "s", [], None)
    assert subject == "Touchpoint not logged: s" and "(something_new)" in body


@pytest.mark.parametrize("sender, member, expected", [
    ("ann@ourco.com", True, True),
    ("ann@ourco.com", False, True),
    ("ann@eu.mail.ourco.com", False, True),
    ("ANN@OURCO.COM", False, True),
    ("ann@gmail.com", True, True),  # a registered alias outside our domains
    ("mallory@evil.com", False, False),
    ("mallory@notourco.com", False, False),
    ("", False, False),
])
def test_should_notify_only_our_own_people(sender, member, expected):
    assert should_notify(sender, member, ["ourco.com"]) is expected


def test_header_name_matches_filters():
    filters = pytest.importorskip("poller.understand.filters")
    assert filters.NOTICE_HEADER == notices.NOTICE_HEADER


# --- queueing and sending ---------------------------------------------------------------------


def test_sent_notice_has_auto_reply_and_thread_headers(db, smtp_sink):
    notice = failed_message(key="abc@cust.com")
    report = send_pending(settings_for(smtp_sink), now=T0)
    assert report == NoticeReport(sent=1, suppressed=0, failed=0, pending=0)
    (received,) = smtp_sink.messages
    msg = received.message
    assert received.rcpt_tos == [SENDER] and received.mail_from == "touchpoints@ourco.com"
    assert msg["Subject"] == "Touchpoint not logged: Renewal call"
    assert msg["To"] == SENDER and "touchpoints@ourco.com" in msg["From"]
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["X-Auto-Response-Suppress"] == "All"
    assert msg["In-Reply-To"] == "<abc@cust.com>" and msg["References"] == "<abc@cust.com>"
    assert msg["X-Touchlog-Notice"] == "1"
    assert msg["Message-ID"].startswith("<touchlog-notice.") and msg["Date"]
    assert "No account" in msg.get_content()
    sent = reload(notice)
    assert (sent.status, sent.attempts, sent.sent_at, sent.last_error) == ("sent", 1, T0, "")


def test_non_ascii_subject_and_body_arrive_intact(db, smtp_sink):
    failed_message(subject="Réunion – café ☕")
    send_pending(settings_for(smtp_sink), now=T0)
    msg = smtp_sink.messages[0].message
    assert msg["Subject"] == "Touchpoint not logged: Réunion – café ☕"
    assert '"Réunion – café ☕"' in msg.get_content()


def test_queue_notice_rolls_back_with_the_outcome(db):
    with db.atomic() as txn:
        failed_message()
        txn.rollback()
    assert Notice.select().count() == 0 and MessageRecord.select().count() == 0


def test_rate_limit_suppresses_and_never_resends(db, smtp_sink):
    settings = settings_for(smtp_sink, max_per_sender_per_hour=2)
    first = [failed_message(key=f"m{i}@cust.com") for i in range(3)]
    assert send_pending(settings, now=T0) == NoticeReport(sent=2, suppressed=1, pending=0)
    assert reload(first[2]).status == "suppressed"

    failed_message(key="m3@cust.com", to=SENDER.upper())  # same sender, other case
    assert send_pending(settings, now=T0 + timedelta(minutes=59)).suppressed == 1

    later = failed_message(key="m4@cust.com")
    assert send_pending(settings, now=T0 + timedelta(hours=1)).sent == 1
    assert reload(later).status == "sent"
    assert len(smtp_sink.messages) == 3
    assert reload(first[2]).status == "suppressed"  # never resent


def test_rate_limit_is_per_sender(db, smtp_sink):
    settings = settings_for(smtp_sink, max_per_sender_per_hour=1)
    failed_message(key="a@cust.com")
    failed_message(key="b@cust.com", to="bob@ourco.com")
    assert send_pending(settings, now=T0).sent == 2


def test_smtp_down_then_up_delivers_exactly_once(db, smtp_sink):
    settings = settings_for(smtp_sink)
    notice = failed_message()
    smtp_sink.stop()
    report = send_pending(settings, now=T0)
    assert report == NoticeReport(sent=0, suppressed=0, failed=1, pending=1)
    down = reload(notice)
    assert (down.status, down.attempts) == ("pending", 1)
    assert f"{smtp_sink.host}:{smtp_sink.port}" in down.last_error

    smtp_sink.start()
    assert send_pending(settings, now=T0 + timedelta(minutes=1)).sent == 1
    assert send_pending(settings, now=T0 + timedelta(minutes=2)) == NoticeReport()
    assert len(smtp_sink.messages) == 1
    up = reload(notice)
    assert (up.status, up.attempts, up.last_error) == ("sent", 2, "")


def test_connection_refused_keeps_every_notice_pending(db):
    settings = Settings(notify=NotifySettings(smtp_host="127.0.0.1", smtp_port=free_port(),
                                              smtp_tls="none"))
    queued = [failed_message(key=f"m{i}@cust.com") for i in range(3)]
    assert send_pending(settings, now=T0) == NoticeReport(failed=3, pending=3)
    assert all(reload(n).attempts == 1 and reload(n).last_error for n in queued)


def test_refused_recipient_does_not_block_the_rest(db, smtp_sink):
    smtp_sink.reject["gone@ourco.com"] = "550 5.1.1 no such user here"
    refused = failed_message(key="a@cust.com", to="gone@ourco.com")
    failed_message(key="b@cust.com")
    report = send_pending(settings_for(smtp_sink), now=T0)
    assert report == NoticeReport(sent=1, failed=1, pending=1)
    assert [r.rcpt_tos for r in smtp_sink.messages] == [[SENDER]]
    assert "550" in reload(refused).last_error and reload(refused).status == "pending"


def test_server_hanging_up_on_one_notice_reconnects_for_the_next(db, smtp_sink):
    smtp_sink.reject["busy@ourco.com"] = "421 4.3.2 try again later"
    busy = failed_message(key="a@cust.com", to="busy@ourco.com")
    failed_message(key="b@cust.com")
    assert send_pending(settings_for(smtp_sink), now=T0) == NoticeReport(sent=1, failed=1,
                                                                           pending=1)
    assert "421" in reload(busy).last_error
    del smtp_sink.reject["busy@ourco.com"]
    assert send_pending(settings_for(smtp_sink), now=T0).sent == 1
    assert reload(busy).attempts == 2


def test_disabled_sends_nothing_and_keeps_the_queue(db, smtp_sink):
    notice = failed_message()
    report = send_pending(settings_for(smtp_sink, enabled=False), now=T0)
    assert report == NoticeReport(pending=1)
    assert smtp_sink.messages == [] and reload(notice).attempts == 0


# --- check_smtp, AUTH and TLS -----------------------------------------------------------------


def test_check_smtp_ok(smtp_sink):
    assert check_smtp(settings_for(smtp_sink)) == (f"smtp 127.0.0.1:{smtp_sink.port} ok (none), "
                                                   "no login")


def test_check_smtp_refused_is_one_line_naming_the_server():
    port = free_port()
    settings = Settings(notify=NotifySettings(smtp_host="127.0.0.1", smtp_port=port,
                                              smtp_tls="none"))
    with pytest.raises(NoticeError) as err:
        check_smtp(settings)
    assert f"127.0.0.1:{port}" in str(err.value) and "cannot connect" in str(err.value)
    assert "\n" not in str(err.value)


@pytest.fixture
def auth_sink():
    sink = SmtpSink(users={"notifier": "s3cret"}).start()
    yield sink
    sink.stop()


def auth_settings(sink: SmtpSink, tmp_path: Path, password: str) -> Settings:
    (tmp_path / "smtp.secret").write_text(password + "\n")
    return settings_for(sink, tmp_path, smtp_username="notifier",
                        smtp_password_file="smtp.secret")


def test_login_with_username_and_password(db, auth_sink, tmp_path):
    settings = auth_settings(auth_sink, tmp_path, "s3cret")
    assert check_smtp(settings).endswith("ok (none), password from smtp.secret")
    failed_message()
    assert send_pending(settings, now=T0).sent == 1
    assert auth_sink.messages[0].auth == "notifier"


def test_wrong_password_is_reported_and_keeps_notice_pending(db, auth_sink, tmp_path):
    settings = auth_settings(auth_sink, tmp_path, "wrong")
    with pytest.raises(NoticeError, match=r"login as notifier failed: 535"):
        check_smtp(settings)
    notice = failed_message()
    assert send_pending(settings, now=T0) == NoticeReport(failed=1, pending=1)
    assert "login as notifier failed" in reload(notice).last_error
    assert "wrong" not in reload(notice).last_error


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return cert, key


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, certificate))
    return context


def test_starttls_with_private_ca(db, certificate, tmp_path):
    with SmtpSink(tls_context=server_context(certificate)) as sink:
        settings = settings_for(sink, smtp_tls="starttls", ca_file=str(certificate[0]))
        assert check_smtp(settings).endswith("ok (starttls), no login")
        failed_message()
        assert send_pending(settings, now=T0).sent == 1
        untrusted = replace(settings, notify=replace(settings.notify, ca_file=""))
        with pytest.raises(NoticeError, match="STARTTLS failed"):
            check_smtp(untrusted)
        unverified = replace(untrusted, notify=replace(untrusted.notify, verify_tls=False))
        assert check_smtp(unverified).endswith("ok (starttls), no login")


def test_implicit_tls(db, certificate):
    with SmtpSink(ssl_context=server_context(certificate)) as sink:
        settings = settings_for(sink, smtp_tls="ssl", ca_file=str(certificate[0]))
        assert check_smtp(settings) == f"smtp 127.0.0.1:{sink.port} ok (ssl), no login"
        failed_message()
        assert send_pending(settings, now=T0).sent == 1
        assert len(sink.messages) == 1
