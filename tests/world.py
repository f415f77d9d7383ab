"""A whole touchlog installation for end-to-end tests, driven the way a user drives it:
a settings.toml in a folder, the directory imported from CSV, and the `touchlog` commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from cli import main
from tests.builders import write_directory
from tests.conftest import PASSWORD_ENV, ImapAccount
from tests.smtpsink import SmtpSink

ROOT = Path(__file__).resolve().parents[1]


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


def _toml(values: dict[str, dict[str, Any]]) -> str:
    lines = []
    for section, items in values.items():
        lines.append(f"[{section}]")
        lines.extend(f"{key} = {json.dumps(value)}" for key, value in items.items())
    return "\n".join(lines) + "\n"
