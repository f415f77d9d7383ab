"""What end-to-end tests are built from: a Dovecot in a fresh folder, a fresh IMAP user on it
(`ImapAccount`, with helpers that talk IMAP directly), and a whole touchlog installation
(`World`) driven the way a user drives it: a settings.toml in a folder, the directory imported
from CSV, and the `touchlog` commands. tests/conftest.py turns these into fixtures."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from imapclient import IMAPClient

from cli import main
from core.sections import MailboxSettings
from tests.builders import TEST_AUTHSERV_ID, authenticated, write_directory
from tests.smtpsink import SmtpSink
from tools.dovecot import DOVECOT, Dovecot

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "s3cret-Pw"
PASSWORD_ENV = "TOUCHLOG_TEST_IMAP_PASSWORD"
MAIN_USER = "touchpoints@ourco.com"
_user_numbers = itertools.count(1)


@contextmanager
def running_dovecot(separator: str = "/", prefix: str = "", **options: Any) -> Iterator[Dovecot]:
    """A Dovecot in a fresh folder under /tmp: by default with MAIN_USER and TLS (STARTTLS and
    implicit); `options` go to tools.dovecot.Dovecot as they are (users, capabilities, OAuth2).

    /tmp rather than pytest's tmp_path: as root the mail is read as `nobody`, who cannot enter
    pytest's 0700 folders.
    """
    if not Path(DOVECOT).exists():
        pytest.skip(f"{DOVECOT} is not installed")
    directory = Path(tempfile.mkdtemp(prefix="touchlog-test-dovecot-"))
    options = {"users": {MAIN_USER: PASSWORD}, "imaps_port": 0, **options}
    server = Dovecot(directory, 0, separator=separator, prefix=prefix, **options)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)

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

    def append(self, raw: bytes, folder: str = "INBOX", flags: tuple[str, ...] = (),
               authenticate: bool = True) -> int:
        """APPEND one message; returns its UID (Dovecot has UIDPLUS). Like a receiving mail
        server, it first adds the test server's Authentication-Results verdict (a DMARC pass
        for the From domain) unless the message has one or `authenticate` is False."""
        if authenticate:
            raw = authenticated(raw)
        with self.client() as client:
            response = client.append(folder, raw, flags=flags)
        return int(response.split(b"]")[0].split()[-1])

    def seed(self, messages: list[bytes], authenticate: bool = True) -> None:
        """Write messages straight into INBOX (fast; do it before the first SELECT); the
        Authentication-Results verdict is added as `append` does."""
        if authenticate:
            messages = [authenticated(raw) for raw in messages]
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




@dataclass
class World:
    folder: Path
    imap: ImapAccount
    smtp: SmtpSink | None = None
    # Every write_settings keeps it, so a PostgreSQL world stays on PostgreSQL.
    database_url: str = "sqlite:///touchlog.db"

    @property
    def config(self) -> Path:
        return self.folder / "settings.toml"

    def encrypt(self, *keys: str) -> Path:
        """Encryption at rest on with these keys (the first seals), in a private key file."""
        path = self.folder / "keys"
        path.write_text("".join(k + "\n" for k in keys))
        os.chmod(path, 0o600)
        self.write_settings(database={"url": self.database_url, "encryption_key_file": "keys"})
        return path

    def write_settings(self, **sections: dict[str, Any]) -> None:
        mailbox = self.imap.settings()
        values: dict[str, dict[str, Any]] = {
            "mailbox": {"host": mailbox.host, "port": mailbox.port, "tls": "none",
                        "username": mailbox.username, "password_env": PASSWORD_ENV,
                        "batch_size": 50},
            "database": {"url": self.database_url},
            "touchpoints": {"mailbox_address": "touchpoints@ourco.com",
                            "internal_domains": ["ourco.com"]},
            "notify": {"enabled": False},
            "schedule": {"interval_seconds": 1},
            "trust": {"authserv_ids": [TEST_AUTHSERV_ID]},
        }
        if self.smtp is not None:
            values["notify"] = {"enabled": True, "smtp_host": self.smtp.host,
                                "smtp_port": self.smtp.port, "smtp_tls": "none",
                                "from_address": "touchpoints@ourco.com"}
        for name, section in sections.items():
            values.setdefault(name, {}).update(section)
        self.config.write_text(_toml(values))

    def touchlog(self, *args: str, expect: int | None = 0) -> Result:
        result = CliRunner().invoke(main, ["--config", str(self.config), *args])
        if expect is not None:
            assert result.exit_code == expect, (result.output, result.exception)
        return result

    def spawn(self, *args: str) -> subprocess.Popen:
        """touchlog in a process of its own, as cron or systemd would start it."""
        env = {**os.environ, PASSWORD_ENV: self.imap.password}
        return subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "--config",
                                 str(self.config), *args], cwd=self.folder, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def import_directory(self, **csv_texts: str) -> None:
        paths = write_directory(self.folder, **csv_texts)
        for kind in ("team", "accounts", "users"):
            self.touchlog("import", kind, str(paths[kind]))

    def poll(self) -> str:
        return self.touchlog("poll", "--once").output

    def touchpoints(self, *args: str) -> list[dict[str, Any]]:
        return json.loads(self.touchlog("touchpoints", "--format", "json", *args).output)

    def failures(self) -> list[dict[str, Any]]:
        return json.loads(self.touchlog("failures", "--format", "json").output)

    def folder_contents(self, name: str) -> dict[int, tuple[tuple[str, ...], bytes]]:
        return self.imap.messages(name)


def installed(folder: Path, imap: ImapAccount, **options: Any) -> World:
    """touchlog set up in `folder` against `imap`: settings written, directory imported."""
    w = World(folder, imap, **options)
    w.write_settings()
    w.import_directory()
    return w


def _toml(values: dict[str, dict[str, Any]]) -> str:
    lines = []
    for section, items in values.items():
        lines.append(f"[{section}]")
        lines.extend(f"{key} = {json.dumps(value)}" for key, value in items.items())
    return "\n".join(lines) + "\n"
