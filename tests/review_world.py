"""The web app over an installation that also polls a real Dovecot (and, when asked, syncs with
the fake Salesforce): what the review queue and the runs page need. Messages fail the way they do
in production: appended to the inbox, then `poll --once`; the failed folder is read back over IMAP
by tests/world.py's ImapAccount, independently of the code under test.

    def test_something(review_web):               # tests/conftest.py's fixture
        uids = review_web.fail(make_mail(to="jill@unknown-corp.com"))
        sam = review_web.signed_in("sam@ourco.com")
        assert sam.get("/review").status_code == 200
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.builders import TEST_AUTHSERV_ID
from tests.smtpsink import SmtpSink
from tests.web_world import WebWorld
from tests.world import PASSWORD_ENV, ImapAccount

FAILED = "Touchpoints/Failed"
LOGGED = "Touchpoints/Logged"


class ReviewWorld(WebWorld):
    def __init__(self, folder: Path, smtp: SmtpSink, imap: ImapAccount,
                 salesforce: dict[str, Any] | None = None, **kwargs: Any) -> None:
        self.imap = imap
        self.salesforce = salesforce or {}
        super().__init__(folder, smtp, **kwargs)

    def write_settings(self, **web: Any) -> None:
        super().write_settings(**web)
        mailbox = self.imap.settings()
        sections: dict[str, dict[str, Any]] = {
            "mailbox": {"host": mailbox.host, "port": mailbox.port, "tls": "none",
                        "username": mailbox.username, "password_env": PASSWORD_ENV,
                        "batch_size": 50},
            "trust": {"authserv_ids": [TEST_AUTHSERV_ID]},
        }
        if self.salesforce:
            sections["salesforce"] = self.salesforce
        with self.config.open("a") as out:
            for name, items in sections.items():
                out.write(f"[{name}]\n" + "".join(f"{k} = {json.dumps(v)}\n"
                                                  for k, v in items.items()))

    def fail(self, *mails: bytes) -> dict[str, int]:
        """Append each mail to the inbox and run one pass; the failed folder's UIDs by
        subject, as `touchlog failures` lists them."""
        for raw in mails:
            self.imap.append(raw)
        self.touchlog("poll", "--once")
        return {f["subject"]: f["uid"] for f in self.failures()}

    def failures(self) -> list[dict[str, Any]]:
        return json.loads(self.touchlog("failures", "--format", "json"))

    def touchlog_result(self, *args: str) -> Any:
        """`touchlog ARGS` whatever its exit status: the click Result."""
        from click.testing import CliRunner

        from cli import main

        return CliRunner().invoke(main, ["--config", str(self.config), *args])

    def in_folder(self, name: str = FAILED) -> dict[int, bytes]:
        """UID -> raw bytes of each message in a folder, read over IMAP directly."""
        return {uid: raw for uid, (_, raw) in self.imap.messages(name).items()}


def assert_safe(answer: Any, status: int = 200) -> None:
    """What every response of the app must be (SPEC 21), as tests/test_web_gate.py checks for
    the first pages: the status, the security headers, no caching, and a page with no inline
    script, style or handler for the CSP to block."""
    from web.headers import SECURITY_HEADERS

    assert answer.status_code == status, (answer.status_code, answer.text[:300])
    for header, value in SECURITY_HEADERS.items():
        assert answer.headers.get(header) == value, header
    assert answer.headers["Cache-Control"] == "no-store"
    page = answer.text
    assert "<style" not in page and " style=" not in page
    assert re.findall(r"<[a-z][^>]*\son[a-z]+\s*=", page) == []  # onclick= …
    scripts = [chunk.split(">", 1)[0] for chunk in page.split("<script")[1:]]
    assert scripts in ([' src="/static/htmx.min.js" defer'], []), scripts
