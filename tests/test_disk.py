"""A full disk and a read-only database, on a real small filesystem (issue 9): one line naming
the cause, no traceback, no partial file, nothing lost; the read commands still work."""

from __future__ import annotations

import gc
import json
import os
from email import message_from_bytes, policy

import pytest

from tests.builders import make_mail
from tests.disks import fill, remount


def _with_attachment(raw: bytes) -> bytes:
    msg = message_from_bytes(raw, policy=policy.default)
    msg.add_attachment(os.urandom(200_000), maintype="application", subtype="pdf",
                       filename="quote.pdf")
    return bytes(msg)


@pytest.mark.parametrize("full", ["attachments", "database"])
def test_a_full_disk_is_one_line_and_loses_nothing(world, small_disk, full):
    db = small_disk / "touchlog.db"
    attachments = small_disk / "att" if full == "attachments" else world.folder / "att"
    world.database_url = f"sqlite:///{db}"
    world.write_settings(database={"url": world.database_url,
                                   "attachments_dir": str(attachments)})
    world.import_directory()
    raw = make_mail(to="wile@acme.com", message_id="<full@ourco.com>")
    world.imap.append(_with_attachment(raw) if full == "attachments" else raw)
    # Room for the database's few pages, not for the attachment's 200 KB.
    filler = fill(small_disk, leave=64 * 1024 if full == "attachments" else 0)
    result = world.touchlog("poll", "--once", expect=1)
    [line] = result.output.strip().splitlines()
    assert line.startswith("touchlog: ") and "disk full" in line, line
    assert ("attachments" in line) == (full == "attachments"), line
    assert str(small_disk) in line  # it names where
    assert "Traceback" not in result.output and "rollback" not in line
    assert not [p for p in small_disk.rglob("*") if ".tmp" in p.name]  # no partial file
    assert len(world.folder_contents("INBOX")) == 1  # nothing moved, nothing lost
    filler.unlink()
    assert world.poll().startswith("logged 1,")
    assert [tp["message_id"] for tp in world.touchpoints()] == ["full@ourco.com"]


def test_read_commands_work_on_a_read_only_database(world, small_disk):
    world.database_url = f"sqlite:///{small_disk / 'touchlog.db'}"
    world.write_settings(database={"url": world.database_url})
    world.import_directory()
    world.imap.append(make_mail(to="wile@acme.com", message_id="<ro@ourco.com>"))
    world.poll()
    from store.models import database

    database.close()  # this process's commands ran in it: no file open for writing
    gc.collect()  # nor the connections of the commands before (each opened its own)
    remount(small_disk, "ro")
    try:
        assert [tp["account_id"] for tp in world.touchpoints()] == ["ACME"]
        runs = json.loads(world.touchlog("runs", "--format", "json").output)
        assert runs[0]["status"] == "done"
        assert "ACME" in world.touchlog("explain", "ro@ourco.com").output
        world.imap.append(make_mail(to="wile@acme.com", message_id="<ro2@ourco.com>"))
        result = world.touchlog("poll", "--once", expect=1)
        [line] = result.output.strip().splitlines()
        assert "read-only" in line and "nothing touched" in line, line
        assert len(world.folder_contents("INBOX")) == 1
        imported = world.touchlog("import", "team", str(world.folder / "team.csv"), expect=1)
        [line] = imported.output.strip().splitlines()
        assert "read-only" in line and "Traceback" not in imported.output, line
    finally:
        remount(small_disk, "rw")
