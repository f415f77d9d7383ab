"""Shared fixtures: real Dovecot servers (one per hierarchy delimiter), a fresh IMAP user per
test, a fresh SQLite database, and a throwaway PostgreSQL cluster with a fresh database per test
(`postgres`, `pg_url`).

Tests that use `dovecot`, `dovecot_dot`, `imap` or `imap_dot` are marked `imap` automatically
and skipped only when /usr/sbin/dovecot is not installed (`make test` installs it as root).
"""

from __future__ import annotations

import itertools
import os
import shutil
import ssl
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from imapclient import IMAPClient
from peewee import Database

from poller.settings import MailboxSettings
from tests.smtpsink import SmtpSink
from tools.dovecot import DOVECOT, Dovecot
from tools.postgres import Postgres, missing_reason

PASSWORD = "s3cret-Pw"
PASSWORD_ENV = "TOUCHLOG_TEST_IMAP_PASSWORD"
MAIN_USER = "touchpoints@ourco.com"
_IMAP_FIXTURES = {"dovecot", "dovecot_dot", "imap", "imap_dot"}
_user_numbers = itertools.count(1)
_pg_database_numbers = itertools.count(1)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = not Path(DOVECOT).exists()
    skip = pytest.mark.skip(reason=f"{DOVECOT} is not installed: apt-get install dovecot-imapd "
                                   "(`make test` does it when run as root)")
    for item in items:
        if _IMAP_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.imap)
        if missing and "imap" in item.keywords:
            item.add_marker(skip)


@contextmanager
def running_dovecot(separator: str = "/", prefix: str = "") -> Iterator[Dovecot]:
    """A Dovecot with TLS (STARTTLS and implicit) in a fresh folder under /tmp.

    /tmp rather than pytest's tmp_path: as root the mail is read as `nobody`, who cannot enter
    pytest's 0700 folders.
    """
    if not Path(DOVECOT).exists():
        pytest.skip(f"{DOVECOT} is not installed")
    directory = Path(tempfile.mkdtemp(prefix="touchlog-test-dovecot-"))
    server = Dovecot(directory, 0, {MAIN_USER: PASSWORD}, separator, imaps_port=0,
                     prefix=prefix)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """Dovecot announcing "/" as its hierarchy delimiter."""
    with running_dovecot("/") as server:
        yield server


@pytest.fixture(scope="session")
def dovecot_dot() -> Iterator[Dovecot]:
    """Dovecot announcing "." (the Maildir++ habit): Touchpoints/Logged is Touchpoints.Logged."""
    with running_dovecot(".") as server:
        yield server


@dataclass
class ImapAccount:
    """A fresh login on a test server, with helpers that talk IMAP directly (not via Mailbox),
    so tests check the server's state independently of the code under test."""

    server: Dovecot
    username: str
    password: str = PASSWORD

    def settings(self, tls: str = "none", **overrides: object) -> MailboxSettings:
        port = self.server.imaps_port if tls == "ssl" else self.server.port
        values = dict(host="127.0.0.1", port=port, tls=tls, username=self.username,
                      password_env=PASSWORD_ENV, ca_file=str(self.server.cert_path))
        values.update(overrides)
        return MailboxSettings(**values)  # type: ignore[arg-type]

    @contextmanager
    def client(self) -> Iterator[IMAPClient]:
        with IMAPClient("127.0.0.1", port=self.server.port, ssl=False, timeout=10) as client:
            client._imap.debug = 0
            client.login(self.username, self.password)
            yield client

    def append(self, raw: bytes, folder: str = "INBOX", flags: tuple[str, ...] = ()) -> int:
        """APPEND one message; returns its UID (Dovecot has UIDPLUS)."""
        with self.client() as client:
            response = client.append(folder, raw, flags=flags)
        return int(response.split(b"]")[0].split()[-1])

    def seed(self, messages: list[bytes]) -> None:
        """Write messages straight into INBOX (fast; do it before the first SELECT)."""
        self.server.seed(self.username, messages)

    def folders(self) -> list[str]:
        with self.client() as client:
            return [name for _, _, name in client.list_folders()]

    def messages(self, folder: str = "INBOX") -> dict[int, tuple[tuple[str, ...], bytes]]:
        """UID -> (flags, raw bytes) of every message in the folder, read without \\Seen."""
        with self.client() as client:
            client.select_folder(folder, readonly=True)
            data = client.fetch(client.search(), [b"FLAGS", b"BODY.PEEK[]"])
        return {uid: (tuple(f.decode() for f in item[b"FLAGS"]), item[b"BODY[]"])
                for uid, item in data.items()}


def new_account(server: Dovecot) -> ImapAccount:
    """A user nobody else has touched: Dovecot re-reads its passwd-file, no restart."""
    account = ImapAccount(server, f"t{next(_user_numbers)}@ourco.com")
    server.add_user(account.username, account.password)
    return account


@pytest.fixture
def imap(dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch) -> ImapAccount:
    """A fresh, empty IMAP user on the "/" server; its password is in $TOUCHLOG_TEST_IMAP_PASSWORD
    so `account.settings()` works with Settings.imap_password()."""
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    return new_account(dovecot)


@pytest.fixture
def imap_dot(dovecot_dot: Dovecot, monkeypatch: pytest.MonkeyPatch) -> ImapAccount:
    """A fresh, empty IMAP user on the "." server."""
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    return new_account(dovecot_dot)


def tls_context(server: Dovecot) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(server.cert_path))


@pytest.fixture
def tmp_db(tmp_path: Path) -> Iterator[Database]:
    """A fresh SQLite database with every table, bound to the models."""
    from store.db import open_database

    db = open_database("sqlite:///" + str(tmp_path / "t.db"))
    yield db
    db.close()


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A real SMTP server (aiosmtpd) on a free loopback port, keeping what it receives."""
    sink = SmtpSink().start()
    yield sink
    sink.stop()


def installed(folder: Path, imap: ImapAccount, **options: object):
    """touchlog set up in `folder` against `imap`: settings written, directory imported."""
    from tests.world import World

    w = World(folder, imap, **options)  # type: ignore[arg-type]
    w.write_settings()
    w.import_directory()
    return w


@pytest.fixture
def world(imap: ImapAccount, tmp_path: Path):
    """touchlog installed in a folder against a fresh IMAP user, directory imported."""
    return installed(tmp_path, imap)


@pytest.fixture
def pg_world(imap: ImapAccount, tmp_path: Path, pg_url: str):
    """As `world`, with its database on PostgreSQL."""
    return installed(tmp_path, imap, database_url=pg_url)


@pytest.fixture(params=["sqlite", "postgres"])
def any_world(request: pytest.FixtureRequest):
    """`world` on each database: for the behaviours that must not depend on it (exactly once,
    several workers, the history tie-breaks' aggregates and time comparisons)."""
    return request.getfixturevalue("world" if request.param == "sqlite" else "pg_world")


@pytest.fixture
def world_with_smtp(imap: ImapAccount, tmp_path: Path, smtp_sink: SmtpSink):
    """As `world`, with notices on and sent to a real SMTP sink."""
    return installed(tmp_path, imap, smtp=smtp_sink)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (tools/postgres.py), one per session; skipped
    when the server binaries are not installed (`make test` installs them as root), an error
    then instead when $TOUCHLOG_REQUIRE_POSTGRES is set (CI)."""
    reason = missing_reason()
    if reason and os.environ.get("TOUCHLOG_REQUIRE_POSTGRES"):
        pytest.fail(f"TOUCHLOG_REQUIRE_POSTGRES is set but {reason}", pytrace=False)
    if reason:
        pytest.skip(reason)
    server = Postgres()
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def pg_url(postgres: Postgres) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test: its URL (CREATE DATABASE, ~40 ms)."""
    name = f"touchlog_t{next(_pg_database_numbers)}"
    url = postgres.create_database(name)
    yield url
    from store.models import database

    # The models may still be bound to it (in-process CLI commands): close before dropping.
    if getattr(database.obj, "database", None) == name and not database.obj.is_closed():
        database.obj.close()
    postgres.drop_database(name)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """A fresh SQLite file for the directory and resolution tests; TOUCHLOG_TEST_POSTGRES_URL
    runs the same tests on PostgreSQL (tests/test_postgres.py does)."""
    import os

    from store.db import open_database
    from store.models import MODELS

    url = os.environ.get("TOUCHLOG_TEST_POSTGRES_URL")
    database = open_database(url or "sqlite:///" + str(tmp_path / "t.db"))
    if url:
        database.drop_tables(MODELS, cascade=True)
        database.create_tables(MODELS)
    yield database
    database.close()
