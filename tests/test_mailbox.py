"""The IMAP session against a real Dovecot: logins, folders, PEEK fetches, keywords, moves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from core.errors import MailboxError
from poller.imap.session import Mailbox
from poller.imap.wire import uid_set
from tests.world import PASSWORD, ImapAccount, new_account, running_dovecot
from tools.dovecot import Dovecot, free_port

pytestmark = pytest.mark.imap


def mail(n: int, subject: str = "", extra: str = "") -> bytes:
    subject = subject or f"message {n}"
    return (f"From: Seller <seller@ourco.com>\r\nTo: wile@acme.com\r\nSubject: {subject}\r\n"
            f"Date: Tue, 04 Mar 2025 10:0{n % 10}:00 +0100\r\n"
            f"Message-ID: <m{n}@Test.Example>\r\n{extra}\r\nBody of message {n}.\r\n").encode()


def message_ids(account: ImapAccount, folder: str) -> set[str]:
    return {raw.split(b"Message-ID: <")[1].split(b">")[0].decode()
            for _, raw in account.messages(folder).values()}


@pytest.fixture
def box(imap: ImapAccount) -> Iterator[Mailbox]:
    with Mailbox.connect(imap.settings(), PASSWORD) as mailbox:
        yield mailbox


# --- connecting ---------------------------------------------------------------------------------

def test_login_with_right_password_sees_empty_inbox(box: Mailbox) -> None:
    assert box.uids("INBOX") == []
    assert "IMAP4REV1" in box.capabilities


def test_wrong_password_is_one_line_naming_server_and_user(imap: ImapAccount) -> None:
    with pytest.raises(MailboxError) as caught:
        Mailbox.connect(imap.settings(), "wrong-password")
    text = str(caught.value)
    assert text == (f"imap 127.0.0.1:{imap.server.port}: login refused for {imap.username}")
    assert "wrong-password" not in text


def test_nothing_listening_says_connection_refused(imap: ImapAccount) -> None:
    with pytest.raises(MailboxError, match=r"^imap 127.0.0.1:\d+: connection refused$"):
        Mailbox.connect(imap.settings(port=free_port()), PASSWORD, timeout=5)


def test_implicit_tls_against_plain_port_is_a_tls_failure(imap: ImapAccount) -> None:
    settings = imap.settings(tls="ssl", port=imap.server.port)
    with pytest.raises(MailboxError, match="TLS failure") as caught:
        Mailbox.connect(settings, PASSWORD, timeout=5)
    assert "\n" not in str(caught.value)


def test_starttls_with_generated_certificate(imap: ImapAccount) -> None:
    with Mailbox.connect(imap.settings(tls="starttls"), PASSWORD) as mailbox:
        assert mailbox.uids("INBOX") == []


def test_implicit_tls_with_generated_certificate(imap: ImapAccount) -> None:
    with Mailbox.connect(imap.settings(tls="ssl"), PASSWORD) as mailbox:
        assert mailbox.uids("INBOX") == []


def test_untrusted_certificate_is_refused_unless_verification_is_off(imap: ImapAccount) -> None:
    untrusted = imap.settings(tls="ssl", ca_file="")
    with pytest.raises(MailboxError, match="TLS certificate not trusted"):
        Mailbox.connect(untrusted, PASSWORD, timeout=5)
    with Mailbox.connect(imap.settings(tls="ssl", ca_file="", verify_tls=False), PASSWORD) as mb:
        assert mb.uids("INBOX") == []


# --- folders ------------------------------------------------------------------------------------

def test_slash_server_keeps_settings_names(imap: ImapAccount, box: Mailbox) -> None:
    box.ensure_folders("Touchpoints/Logged", "Touchpoints/Failed")
    assert box.folder_name("Touchpoints/Logged") == "Touchpoints/Logged"
    assert {"Touchpoints/Logged", "Touchpoints/Failed"} <= set(imap.folders())


def test_dot_server_creates_dotted_folder(imap_dot: ImapAccount) -> None:
    with Mailbox.connect(imap_dot.settings(), PASSWORD) as mailbox:
        assert mailbox.missing_folders("INBOX", "Touchpoints/Logged") == ["Touchpoints/Logged"]
        mailbox.ensure_folders("Touchpoints/Logged")
        assert mailbox.folder_name("Touchpoints/Logged") == "Touchpoints.Logged"
        assert mailbox.missing_folders("Touchpoints/Logged") == []
    assert "Touchpoints.Logged" in imap_dot.folders()


def test_ensure_folders_twice_is_harmless_and_subscribes(imap: ImapAccount, box: Mailbox) -> None:
    box.ensure_folders("Touchpoints/Logged")
    box.ensure_folders("Touchpoints/Logged", "Touchpoints/Logged")
    with imap.client() as client:
        subscribed = [name for _, _, name in client.list_sub_folders()]
    assert subscribed.count("Touchpoints/Logged") == 1


def test_missing_folder_error_names_the_folder(box: Mailbox) -> None:
    with pytest.raises(MailboxError, match=r"select folder Nowhere/Else"):
        box.uids("Nowhere/Else")


@pytest.fixture(scope="module")
def prefixed_dovecot() -> Iterator[Dovecot]:
    """Like Courier and old Cyrus: every personal folder lives under "INBOX."."""
    with running_dovecot(".", prefix="INBOX.") as server:
        yield server


def test_personal_namespace_prefix_is_added(prefixed_dovecot: Dovecot) -> None:
    account = new_account(prefixed_dovecot)
    account.append(mail(1))
    with Mailbox.connect(account.settings(), PASSWORD) as mailbox:
        assert mailbox.folder_name("Touchpoints/Failed") == "INBOX.Touchpoints.Failed"
        mailbox.ensure_folders("Touchpoints/Failed")
        mailbox.move("INBOX", mailbox.uids("INBOX"), "Touchpoints/Failed")
        assert mailbox.uids("INBOX") == []
    assert message_ids(account, "INBOX.Touchpoints.Failed") == {"m1@Test.Example"}


# --- fetching -----------------------------------------------------------------------------------

def test_fetch_returns_the_bytes_and_leaves_messages_unseen(imap: ImapAccount,
                                                            box: Mailbox) -> None:
    raw = mail(1, extra="X-Extra: yes\r\n")
    imap.append(raw, authenticate=False)  # exactly these bytes
    [fetched] = list(box.fetch("INBOX", box.uids("INBOX")))
    assert fetched.raw.replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n")
    assert "\\Seen" not in fetched.flags
    [(flags, _)] = imap.messages().values()
    assert "\\Seen" not in flags


def test_fetch_in_batches_gets_every_message(imap: ImapAccount, box: Mailbox) -> None:
    imap.seed([mail(n) for n in range(5)])
    uids = box.uids("INBOX")
    got = [f for batch in (uids[:2], uids[2:4], uids[4:]) for f in box.fetch("INBOX", batch)]
    assert [f.uid for f in got] == uids and len(got) == 5


def test_fetch_skips_a_uid_that_vanished(imap: ImapAccount, box: Mailbox) -> None:
    first, second = imap.append(mail(1)), imap.append(mail(2))
    got = list(box.fetch("INBOX", [first, 999, second]))
    assert [f.uid for f in got] == [first, second]


def test_internal_date_is_utc(imap: ImapAccount, box: Mailbox) -> None:
    with imap.client() as client:
        client.append("INBOX", mail(1), msg_time=datetime(2025, 3, 4, 9, 30, tzinfo=UTC))
    [fetched] = list(box.fetch("INBOX", box.uids("INBOX")))
    assert fetched.internal_date == datetime(2025, 3, 4, 9, 30, tzinfo=UTC)


def test_fetch_raw_returns_bytes_or_none(imap: ImapAccount, box: Mailbox) -> None:
    uid = imap.append(mail(1))
    assert b"Body of message 1." in box.fetch_raw("INBOX", uid)
    assert box.fetch_raw("INBOX", uid + 100) is None


# --- keywords and moves -------------------------------------------------------------------------

MOVE_MODES = [
    pytest.param({}, id="MOVE"),
    pytest.param({"use_move": False}, id="COPY+UID-EXPUNGE"),
    pytest.param({"use_move": False, "use_uidplus": False}, id="COPY+EXPUNGE"),
]


@pytest.mark.parametrize("mode", MOVE_MODES)
def test_move_moves_exactly_those_uids(imap: ImapAccount, mode: dict) -> None:
    imap.seed([mail(n) for n in range(1, 6)])
    with Mailbox.connect(imap.settings(), PASSWORD, **mode) as mailbox:
        mailbox.ensure_folders("Touchpoints/Logged")
        uids = mailbox.uids("INBOX")
        mailbox.move("INBOX", [uids[0], uids[2], uids[3]], "Touchpoints/Logged")
        assert mailbox.uids("INBOX") == [uids[1], uids[4]]
    assert message_ids(imap, "INBOX") == {"m2@Test.Example", "m5@Test.Example"}
    assert message_ids(imap, "Touchpoints/Logged") == {
        "m1@Test.Example", "m3@Test.Example", "m4@Test.Example"}


@pytest.mark.parametrize("mode", MOVE_MODES)
def test_keywords_survive_the_move(imap: ImapAccount, mode: dict) -> None:
    imap.seed([mail(1), mail(2)])
    with Mailbox.connect(imap.settings(), PASSWORD, **mode) as mailbox:
        mailbox.ensure_folders("Touchpoints/Failed")
        first, second = mailbox.uids("INBOX")
        mailbox.add_keyword("INBOX", [first], "$tl_no_account")
        mailbox.move("INBOX", [first, second], "Touchpoints/Failed")
        entries = mailbox.list_entries("Touchpoints/Failed")
    flags = {e.message_id: e.flags for e in entries}
    assert "$tl_no_account" in flags["m1@test.example"]
    assert "$tl_no_account" not in flags["m2@test.example"]
    assert all("\\Deleted" not in f for f in flags.values())


def test_remove_keywords(imap: ImapAccount, box: Mailbox) -> None:
    uid = imap.append(mail(1), flags=("$tl_no_account", "$tl_other"))
    box.remove_keywords("INBOX", [uid], ["$tl_no_account", "$tl_other"])
    [(flags, _)] = imap.messages().values()
    assert not {"$tl_no_account", "$tl_other"} & set(flags)


def test_without_uidplus_another_clients_deleted_message_is_not_expunged(
        imap: ImapAccount) -> None:
    imap.seed([mail(1), mail(2)])
    with imap.client() as other:
        other.select_folder("INBOX")
        first, second = other.search()
        other.add_flags([second], ["\\Deleted"])  # someone else's, maybe to be undeleted
    with Mailbox.connect(imap.settings(), PASSWORD, use_move=False, use_uidplus=False) as mb:
        mb.ensure_folders("Touchpoints/Logged")
        mb.move("INBOX", [first], "Touchpoints/Logged")
        assert mb.uids("INBOX") == []
    assert set(imap.messages("INBOX")) == {first, second}
    assert message_ids(imap, "Touchpoints/Logged") == {"m1@Test.Example"}


def test_moving_nothing_sends_nothing(imap: ImapAccount, box: Mailbox) -> None:
    uid = imap.append(b"Subject: stays\r\n\r\nbody\r\n")
    # An empty set reaches no server command: a missing destination is then no error.
    box.move("INBOX", [], "Does/Not/Exist")
    assert list(imap.messages("INBOX")) == [uid]
    assert not any("Does" in name for name in imap.folders())


def test_uid_set_is_compact() -> None:
    assert uid_set([7, 1, 2, 3, 9, 10]) == "1:3,7,9:10"


# --- listing ------------------------------------------------------------------------------------

def test_list_entries_decodes_the_envelope(imap: ImapAccount, box: Mailbox) -> None:
    subject = "=?utf-8?q?R=C3=A9union_=E2=80=94_caf=C3=A9?=\r\n =?utf-8?q?_notes?="
    uid = imap.append(mail(1, subject=subject), flags=("$tl_no_account",))
    [entry] = box.list_entries("INBOX")
    assert entry.uid == uid
    assert entry.subject == "Réunion — café notes"
    assert entry.sender == "seller@ourco.com"
    assert entry.message_id == "m1@test.example"
    assert entry.date == datetime(2025, 3, 4, 9, 1, tzinfo=UTC)
    assert "$tl_no_account" in entry.flags


def test_list_entries_of_an_empty_folder(box: Mailbox) -> None:
    box.ensure_folders("Touchpoints/Failed")
    assert box.list_entries("Touchpoints/Failed") == []


@pytest.mark.parametrize("name, prefix, delimiter, server", [
    ("Touchpoints/Logged", "", "/", "Touchpoints/Logged"),
    ("Touchpoints/Logged", "", ".", "Touchpoints.Logged"),
    ("/Touchpoints/Failed/", "INBOX.", ".", "INBOX.Touchpoints.Failed"),
    ("INBOX.Touchpoints", "INBOX.", ".", "INBOX.Touchpoints"),
    ("Archive", "", None, "Archive"),
])
def test_a_settings_folder_is_spelled_as_the_server_does(name, prefix, delimiter, server):
    from poller.imap.wire import server_folder

    assert server_folder(name, prefix, delimiter) == server
