"""SPEC 20, "Files are private": the database, its -wal/-shm, the attachments folder and its
files are created owner-only (0600 files, 0700 folders) whatever the umask, and `touchlog check`
warns about one that group or others can read."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from store.encryption.keyring import new_key
from tests.builders import authenticated, make_mail
from tests.world import World

pytestmark = pytest.mark.imap


@pytest.fixture(params=[0o022, 0o000], ids=["umask-022", "umask-000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    before = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(before)


def with_attachment() -> bytes:
    msg = message_from_bytes(make_mail(to="wile@acme.com", auth=None), policy=policy.default)
    msg.add_attachment(b"%PDF quote" * 50, maintype="application", subtype="pdf",
                       filename="quote.pdf")
    return authenticated(bytes(msg))


def kept(world: World) -> list[Path]:
    found = sorted(world.folder.glob("touchlog.db*"))
    attachments = world.folder / "attachments"
    return found + [attachments, *sorted(attachments.rglob("*"))]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
def test_everything_touchlog_keeps_is_owner_only_whatever_the_umask(world, umask, encrypted):
    if encrypted:
        world.encrypt(new_key())
    world.imap.append(with_attachment())
    assert world.poll().startswith("logged 1,")
    world.touchlog("touchpoints", "add", "--as", "sam@ourco.com", "--account", "ACME",
                   "--type", "telephone_call", "--attach", str(world.folder / "settings.toml"))
    paths = kept(world)
    names = {p.name for p in paths}
    assert {"touchlog.db", "touchlog.db-wal", "touchlog.db-shm", "attachments"} <= names
    assert len([p for p in paths if p.is_file() and "attachments" in p.parts]) == 2
    modes = {str(p.relative_to(world.folder)): oct(mode(p)) for p in paths}
    assert all(mode(p) == (0o700 if p.is_dir() else 0o600) for p in paths), modes
    lock = list(world.folder.glob("touchlog.db.poll-*.lock"))
    assert lock and mode(lock[0]) == 0o600
    line = next(x for x in world.touchlog("check", expect=None).output.splitlines()
                if x.startswith("files"))
    assert " ok " in line and "owner only" in line, line


def test_check_warns_about_a_file_others_can_read(world):
    world.imap.append(with_attachment())
    world.poll()
    [kept_file] = [p for p in (world.folder / "attachments").rglob("*") if p.is_file()]
    os.chmod(world.folder / "touchlog.db", 0o644)
    os.chmod(kept_file, 0o640)
    result = world.touchlog("check", expect=None)
    line = next(x for x in result.output.splitlines() if x.startswith("files"))
    assert " warn " in line and "readable by group or others" in line
    assert str(world.folder / "touchlog.db") in line and str(kept_file) in line
    assert "chmod 600" in line
