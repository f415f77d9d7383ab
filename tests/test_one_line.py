"""SPEC 20, "One line, always": a full disk, a read-only database, a lost connection end every
command that writes (poll, process, failures assign, touchpoints add and edit, import, keys
rotate, the sync) with one line and exit status 1, never a traceback, with or without `-v`.
Each runs as cron runs it, a process of its own, so what it logs is seen too."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from store.encryption.keyring import new_key
from tests.builders import authenticated, make_mail
from tests.cutproxy import CuttingProxy
from tests.disks import fill, remount
from tests.sf_world import SfWorld
from tests.world import ROOT, World

pytestmark = pytest.mark.imap

VERBOSITY = ((), ("-v",), ("-vv",))


def with_attachment(message_id: str) -> bytes:
    msg = message_from_bytes(make_mail(to="wile@acme.com", message_id=message_id, auth=None),
                             policy=policy.default)
    msg.add_attachment(os.urandom(300_000), maintype="application", subtype="pdf",
                       filename="quote.pdf")
    return authenticated(bytes(msg))


def run(world: World, *args: str) -> tuple[int, str]:
    proc = world.spawn(*args)
    out = proc.communicate(timeout=120)[0]
    return proc.returncode, out


def one_line_or_done(status: int, out: str, cause: str, verbose: tuple[str, ...]) -> bool:
    """Either the command did its work, or it said `cause` in one line and exit status 1;
    never a traceback. True when it refused."""
    assert "Traceback" not in out, out
    if status == 0:
        assert cause not in out, out  # a refusal is never a success
        return False
    said = [line for line in out.splitlines() if line.startswith("touchlog: ")]
    assert status == 1 and len(said) == 1 and cause in said[0], (status, out)
    if not verbose:
        assert out.strip() == said[0], out
    return True


def prepared(world: World, url: str, attachments: Path) -> dict[str, str]:
    """Encrypted, with notices on: a touchpoint to edit, a failed message to assign, a notice
    pending (the SMTP server was down), a message with a file in the inbox, one in a file."""
    keys = world.folder / "keys"
    keys.write_text(new_key() + "\n")
    os.chmod(keys, 0o600)
    world.database_url = url
    world.write_settings(database={"url": url, "encryption_key_file": str(keys),
                                   "attachments_dir": str(attachments)})
    world.import_directory()
    world.imap.append(make_mail(to="wile@acme.com", message_id="<kept@ourco.com>"))
    world.imap.append(make_mail(to="nobody@unknown.example", message_id="<lost@ourco.com>"))
    assert world.smtp is not None
    world.smtp.stop()
    assert world.poll().startswith("logged 1, skipped 0, failed 1")
    world.smtp.start()
    [tp] = world.touchpoints()
    [failed_uid] = world.folder_contents("Touchpoints/Failed")
    world.imap.append(with_attachment("<new@ourco.com>"))
    eml = world.folder / "customer.eml"
    eml.write_bytes(with_attachment("<file@ourco.com>"))
    team = world.folder / "team2.csv"
    team.write_text("email,name,role\nsam@ourco.com,Sam Seller,user\n"
                    + "".join(f"new{i}@ourco.com,New {i} {'x' * 200},user\n" for i in range(300)))
    sam = ("--as", "sam@ourco.com")
    _closed()  # the in-process commands' connection: its WAL goes with it
    return {
        "poll": ("poll", "--once"),
        "process": ("process", str(eml)),
        "failures assign": ("failures", "assign", str(failed_uid), "--account", "ACME", *sam),
        "touchpoints add": ("touchpoints", "add", "--account", "ACME", *sam, "--type",
                            "telephone_call", "--subject", "call", "--content", "x" * 19_000,
                            "--attach", str(eml)),
        "touchpoints edit": ("touchpoints", "edit", str(tp["id"]), *sam, "--content",
                             "y" * 19_000),
        "import": ("import", "team", str(team)),
        "keys rotate": ("keys", "rotate"),
    }


NAMES = ["poll", "process", "failures assign", "touchpoints add", "touchpoints edit", "import",
         "keys rotate"]


def _closed() -> None:
    from store.models import database

    if database.obj is not None:
        database.close()
    gc.collect()


@pytest.mark.parametrize("name", NAMES)
def test_a_full_disk_is_one_line(world_with_smtp: World, small_disk: Path, name: str):
    """Whatever room is left, the command works or says "disk full" in one line."""
    world = world_with_smtp
    args = prepared(world, f"sqlite:///{small_disk / 'touchlog.db'}",
                    small_disk / "attachments")[name]
    refused = 0
    for room, verbose in zip((0, 16_384, 65_536, 65_536, 196_608, 393_216),
                             VERBOSITY * 2, strict=True):
        filler = fill(small_disk, leave=room)
        try:
            if not one_line_or_done(*run(world, *verbose, *args), "disk full", verbose):
                break  # it fit: done (assigning a message twice is another story)
        finally:
            filler.unlink()
        refused += 1
    assert refused >= 2


@pytest.mark.parametrize("name", NAMES)
def test_a_read_only_database_is_one_line(world_with_smtp: World, small_disk: Path, name: str):
    world = world_with_smtp
    args = prepared(world, f"sqlite:///{small_disk / 'touchlog.db'}",
                    small_disk / "attachments")[name]
    remount(small_disk, "ro")
    try:
        for verbose in VERBOSITY:
            assert one_line_or_done(*run(world, *verbose, *args), "read-only", verbose)
    finally:
        remount(small_disk, "rw")


# The statement each command is cut at, mid-way through its work.
CUT_AT = {"poll": b'INSERT INTO "touchpoint"', "process": b'INSERT INTO "touchpoint"',
          "failures assign": b'INSERT INTO "touchpoint"',
          "touchpoints add": b'INSERT INTO "touchpoint"',
          "touchpoints edit": b'UPDATE "touchpoint"', "import": b'INSERT INTO "teammember"',
          "keys rotate": b'UPDATE "touchpoint"'}


@pytest.mark.postgres
@pytest.mark.parametrize("name", NAMES)
def test_a_lost_connection_is_one_line(world_with_smtp: World, pg_url: str, name: str):
    world = world_with_smtp
    where = urlsplit(pg_url)
    args = prepared(world, pg_url, world.folder / "attachments")[name]
    for verbose in VERBOSITY:
        proxy = CuttingProxy(where.hostname or "", where.port or 5432, CUT_AT[name])
        try:
            url = pg_url.replace(f":{where.port}/", f":{proxy.port}/")
            world.write_settings(database={"url": url, "encryption_key_file": "keys",
                                           "attachments_dir": "attachments"})
            assert one_line_or_done(*run(world, *verbose, *args), "connection lost", verbose)
            assert proxy.cuts == 1
        finally:
            proxy.close()


def sync_world(folder: Path, fake) -> tuple[SfWorld, list[str]]:  # noqa: ANN001
    world = SfWorld(folder, fake).install()
    for i in range(40):
        world.add_touchpoint(subject=f"meeting {i}", content="z" * 2000)
    _closed()
    return world, [sys.executable, str(ROOT / "cli.py"), "--config", str(world.config)]


def run_sync(command: list[str], folder: Path, *verbose: str) -> tuple[int, str]:
    done = subprocess.run([*command[:2], *verbose, *command[2:], "sync", "salesforce"],
                          cwd=folder, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout + done.stderr


def test_the_sync_on_a_full_disk_or_a_read_only_database_is_one_line(fake_sf, small_disk,
                                                                     monkeypatch):
    from tests.sf_world import TOKEN_ENV

    monkeypatch.setenv(TOKEN_ENV, fake_sf.token)
    _, command = sync_world(small_disk, fake_sf)
    refused = 0
    for room, verbose in zip((0, 16_384, 65_536), VERBOSITY, strict=True):
        filler = fill(small_disk, leave=room)
        try:
            refused += one_line_or_done(*run_sync(command, small_disk, *verbose), "disk full",
                                        verbose)
        finally:
            filler.unlink()
    assert refused >= 2
    remount(small_disk, "ro")
    try:
        for verbose in VERBOSITY:
            assert one_line_or_done(*run_sync(command, small_disk, *verbose), "read-only",
                                    verbose)
    finally:
        remount(small_disk, "rw")


@pytest.mark.postgres
def test_the_sync_on_a_lost_connection_is_one_line(fake_sf, pg_url, tmp_path, monkeypatch):
    from tests.sf_world import TOKEN_ENV

    monkeypatch.setenv(TOKEN_ENV, fake_sf.token)
    where = urlsplit(pg_url)
    proxy = CuttingProxy(where.hostname or "", where.port or 5432, b'UPDATE "touchpoint"')
    url = pg_url.replace(f":{where.port}/", f":{proxy.port}/")

    class OnPostgres(SfWorld):
        def write_settings(self, **salesforce: object) -> None:
            super().write_settings(**salesforce)
            self.config.write_text(self.config.read_text().replace(
                "sqlite:///touchlog.db", url))

    try:
        world = OnPostgres(tmp_path, fake_sf).install()
        world.add_touchpoint()
        _closed()
        command = [sys.executable, str(ROOT / "cli.py"), "--config", str(world.config)]
        for verbose in VERBOSITY:
            assert one_line_or_done(*run_sync(command, tmp_path, *verbose), "connection lost",
                                    verbose)
        assert proxy.cuts == len(VERBOSITY)
    finally:
        proxy.close()
