"""Encryption at rest end to end (SPEC 12): mail through Dovecot into an encrypted database. A
canary in a subject, a body and an attachment is nowhere in the database file, its WAL or the
attachments folder, yet reads back through the commands; a wrong key stops every command."""

from __future__ import annotations

import json
import os
from email.message import EmailMessage

import pytest

from store.encryption.keyring import new_key
from tests.world import World

pytestmark = pytest.mark.imap

CANARY = "CANARY-93XQ"


def canary_mail(subject: str, to: str = "wile@acme.com") -> bytes:
    msg = EmailMessage()
    msg["From"] = "Sam Seller <sam@ourco.com>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = "Mon, 02 Nov 2026 14:30:00 +0000"
    msg.set_content(f"Hi Wile, the {CANARY} body text we discussed.")
    msg.add_attachment(f"{CANARY} attachment bytes".encode() * 40, maintype="application",
                       subtype="octet-stream", filename="quote.bin")
    return bytes(msg)



def everything_on_disk(world: World) -> bytes:
    found = b""
    for path in world.folder.rglob("*"):
        if path.is_file() and (path.name.startswith("touchlog.db")
                               or "attachments" in path.parts):
            found += path.read_bytes()
    return found


def test_a_canary_is_nowhere_on_disk_yet_reads_back(world_with_smtp: World) -> None:
    world = world_with_smtp
    world.encrypt(new_key())
    world.imap.append(canary_mail(f"{CANARY} pricing"))
    world.imap.append(canary_mail(f"{CANARY} nobody knows", to="x@unknown-customer.example"))
    assert world.poll().startswith("logged 1, skipped 0, failed 1")
    assert world.smtp is not None and len(world.smtp.messages) == 1
    [tp] = world.touchpoints()
    assert tp["subject"] == f"{CANARY} pricing"
    assert CANARY in tp["content"]
    assert tp["attachments"][0]["filename"] == "quote.bin"
    assert CANARY in world.touchlog("explain", str(tp["id"])).output
    [failure] = world.failures()
    assert failure["subject"] == f"{CANARY} nobody knows"
    disk = everything_on_disk(world)
    assert disk, "the database and attachment files exist"
    assert CANARY.encode() not in disk
    attachment_files = [p for p in (world.folder / "attachments").rglob("*") if p.is_file()]
    assert [p.name for p in attachment_files] != [tp["attachments"][0]["sha256"]]
    assert len(attachment_files) == 1


def test_a_wrong_key_file_is_one_line_and_nothing_is_written(world: World) -> None:
    world.encrypt(new_key())
    world.imap.append(canary_mail("first"))
    world.poll()
    world.encrypt(new_key())
    world.imap.append(canary_mail("second"))
    for command in (["poll", "--once"], ["touchpoints"], ["explain", "1"]):
        result = world.touchlog(*command, expect=1)
        assert result.output.strip().endswith(
            f"{world.folder / 'keys'} does not hold the key this database was encrypted with")
    assert len(world.imap.messages("INBOX")) == 1, "the second message is untouched"


def test_a_missing_or_open_key_file_stops_every_command(world: World) -> None:
    path = world.encrypt(new_key())
    os.chmod(path, 0o644)
    result = world.touchlog("touchpoints", expect=1)
    assert f"{path} is readable by group or others; run chmod 600 {path}" in result.output
    path.unlink()
    assert f"{path} not found" in world.touchlog("poll", "--once", expect=1).output


def test_rotation_reencrypts_with_the_new_key_so_the_old_one_can_go(world: World) -> None:
    old, new = new_key(), new_key()
    world.encrypt(old)
    world.imap.append(canary_mail(f"{CANARY} rotate me"))
    world.poll()
    before = {p.name for p in (world.folder / "attachments").rglob("*") if p.is_file()}
    world.encrypt(new, old)
    out = world.touchlog("keys", "rotate").output
    assert out.startswith("re-encrypted ") and " values and 1 attachment files with key " in out
    world.encrypt(new)
    [tp] = world.touchpoints()
    assert tp["subject"] == f"{CANARY} rotate me"
    after = {p.name for p in (world.folder / "attachments").rglob("*") if p.is_file()}
    assert len(after) == 1 and after != before
    assert CANARY.encode() not in everything_on_disk(world)


def test_turning_encryption_on_later_encrypts_what_was_plain(world: World) -> None:
    world.imap.append(canary_mail(f"{CANARY} from before"))
    world.poll()
    assert CANARY.encode() in everything_on_disk(world)
    world.encrypt(new_key())
    assert "re-encrypted" in world.touchlog("keys", "rotate").output
    assert CANARY.encode() not in everything_on_disk(world)
    assert json.loads(world.touchlog("touchpoints", "--format", "json").output)[0][
        "subject"] == f"{CANARY} from before"


def test_keys_new_prints_a_key_the_file_takes(world: World) -> None:
    key = world.touchlog("keys", "new").output.strip()
    world.encrypt(key)
    world.touchlog("touchpoints")


def test_check_says_whether_the_database_is_encrypted_and_with_which_key(world: World) -> None:
    assert "encryption at rest off" in world.touchlog("check", expect=None).output
    path = world.encrypt(new_key(), new_key())
    line = [ln for ln in world.touchlog("check", expect=None).output.splitlines()
            if ln.startswith("database")][0]
    assert " ok " in line and "encrypted at rest with key " in line
    assert f"(2 key(s) in {path})" in line
