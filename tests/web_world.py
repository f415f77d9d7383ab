"""What the web app's tests are built from: touchlog installed in a folder (settings.toml, a
database, the directory imported from CSV, sign-in mail going to a real SMTP sink), its app
made by `create_app` and driven through Flask's test client, and people signed in the way a
person does it: by the link the sink received.

    def test_something(web):                      # tests/conftest.py's `web` fixture
        sam = web.signed_in("sam@ourco.com")      # a test client with Sam's session
        page = sam.get("/accounts?q=acme")
        assert page.status_code == 200 and "Acme Corp" in page.text
        web.post(sam, "/logout")                  # a POST with the page's CSRF token
"""

from __future__ import annotations

import html
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from core.settings import load_settings
from core.utc import utcnow
from tests.builders import ACCOUNTS_CSV, USERS_CSV, import_directory
from tests.smtpsink import SmtpSink

BASE_URL = "http://touchlog.test"
METRICS_TOKEN = "metrics-s3cret"
METRICS_ENV = "TOUCHLOG_TEST_METRICS_TOKEN"
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"
# Control characters a stranger's mail may carry: a terminal escape, a bidi override, a NUL.
CONTROLS = "\x1b[2J\u202eevil\x00"
WEB_TEAM_CSV = f"""email,name,role,aliases
sam@ourco.com,Sam Seller,user,sam.alias@ourco.com
ann@ourco.com,Ann Admin,admin,
eve@ourco.com,"{HOSTILE}",user,
"""
WEB_ACCOUNTS_CSV = ACCOUNTS_CSV + f'EVIL,"{HOSTILE}",,evil.com,false,false\n'
# A form's hidden field, or the header htmx sends (base.html's <body hx-headers=…>).
_CSRF = re.compile(r'(?:name="csrf_token" value="|"X-CSRFToken": ")([0-9a-f]{64})"')
_LINK = re.compile(r"https?://[^/\s]+(/login/link/[A-Za-z0-9_-]+)")


class WebWorld:
    """One installation and its app. `clock` is what the app believes the time is: tests
    move it (`web.clock = ...`) to see links and sessions expire."""

    def __init__(self, folder: Path, smtp: SmtpSink, database_url: str | None = None,
                 database: dict[str, Any] | None = None, **web: Any) -> None:
        from web.app import create_app

        self.folder, self.smtp = folder, smtp
        folder.mkdir(parents=True, exist_ok=True)
        self.config = folder / "settings.toml"
        self.database_url = database_url or f"sqlite:///{folder / 'touchlog.db'}"
        self.database = database or {}
        self.write_settings(**web)
        self.settings = load_settings(self.config)
        self.app: Flask = create_app(self.settings)
        import_directory(folder, team=WEB_TEAM_CSV, accounts=WEB_ACCOUNTS_CSV, users=USERS_CSV)
        self.now: datetime | None = None
        self.app.extensions["touchlog"].clock = lambda: self.now or utcnow()

    def write_settings(self, **web: Any) -> None:
        values = {"base_url": BASE_URL, "metrics_token_env": METRICS_ENV, **web}
        sections = {
            "database": {"url": self.database_url, **self.database},
            "touchpoints": {"mailbox_address": "touchpoints@ourco.com",
                            "internal_domains": ["ourco.com"]},
            "notify": {"enabled": True, "smtp_host": self.smtp.host, "smtp_port": self.smtp.port,
                       "smtp_tls": "none", "from_address": "touchpoints@ourco.com"},
            "web": values,
        }
        self.config.write_text("".join(
            f"[{name}]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in items.items())
            for name, items in sections.items()))

    # --- clients -------------------------------------------------------------------------------

    def client(self, environ: dict[str, str] | None = None) -> FlaskClient:
        """A browser of its own; `environ` goes with each of its requests (REMOTE_ADDR,
        HTTP_X_FORWARDED_FOR …)."""
        client = self.app.test_client()
        client.environ_base.update(environ or {})
        return client

    def csrf(self, client: FlaskClient, path: str = "/login") -> str:
        """The CSRF token a form of `path` carries for this client."""
        page = client.get(path)
        found = _CSRF.search(page.text)
        assert found, (path, page.status_code, page.text[:500])
        return found.group(1)

    def post(self, client: FlaskClient, path: str, data: dict[str, Any] | None = None,
             form_page: str | None = None, **kwargs: Any) -> TestResponse:
        """POST as the browser does: with the CSRF token of the page the form is on."""
        token = self.csrf(client, form_page or ("/login" if path.startswith("/login")
                                                 else "/accounts"))
        return client.post(path, data={**(data or {}), "csrf_token": token}, **kwargs)

    def ask_link(self, address: str, client: FlaskClient | None = None,
                 **kwargs: Any) -> TestResponse:
        return self.post(client or self.client(), "/login/email", {"email": address}, **kwargs)

    def mails_to(self, address: str) -> list[str]:
        """The bodies of the sign-in mails the sink received for `address`, once every mail
        the app handed over has gone."""
        self.app.extensions["touchlog"].mailer.drain()
        return [m.message.get_content() for m in self.smtp.messages
                if address.lower() in [r.lower() for r in m.rcpt_tos]]

    def link_path(self, address: str) -> str:
        """The path of the newest sign-in link mailed to `address`."""
        bodies = self.mails_to(address)
        assert bodies, f"no sign-in mail to {address}"
        found = _LINK.search(bodies[-1])
        assert found, bodies[-1]
        return found.group(1)

    def signed_in(self, address: str, environ: dict[str, str] | None = None) -> FlaskClient:
        """A browser of its own, signed in by the link mailed to `address`."""
        client = self.client(environ)
        self.ask_link(address, client)
        path = self.link_path(address)
        done = self.post(client, path, form_page=path)
        assert done.status_code == 303, (done.status_code, done.text[:500])
        return client

    def import_team(self, csv_text: str, *args: str) -> None:
        """`touchlog import team` (`--replace` in args), as an admin would run it."""
        from click.testing import CliRunner

        from cli import main

        path = self.folder / "team-next.csv"
        path.write_text(csv_text)
        result = CliRunner().invoke(main, ["--config", str(self.config), "import", "team",
                                           str(path), *args])
        assert result.exit_code == 0, result.output

    def audit(self, *args: str) -> list[dict]:
        """The audit trail as `touchlog audit --format json` gives it, newest first."""
        return json.loads(self.touchlog("audit", "--format", "json", *args))

    def changes(self) -> list[tuple[str, str, str]]:
        """The trail's (member, action, object), newest first, without the sign-ins (stamped
        by the real clock, which tests that move the app's clock would put out of order)."""
        return [(r["member"], r["action"], r["object"]) for r in self.audit()
                if r["action"] != "sign_in"]

    def touchlog(self, *args: str) -> str:
        from click.testing import CliRunner

        from cli import main

        result = CliRunner().invoke(main, ["--config", str(self.config), *args])
        assert result.exit_code == 0, (result.output, result.exception)
        return result.output


    # --- touchpoints -------------------------------------------------------------------------

    def add(self, account: str = "ACME", by: str = "sam@ourco.com", kind: str = "telephone_call",
            *args: str) -> int:
        """`touchlog touchpoints add` (as a member would from the CLI); its id."""
        return int(self.touchlog("touchpoints", "add", "--account", account, "--as", by,
                                 "--type", kind, *args).strip())

    def mail(self, account: str = "ACME", subject: str = "Mail", parent: int | None = None,
             when: datetime | None = None, participants: tuple[dict[str, str], ...] = (),
             attachments: tuple[tuple[str, str, bytes], ...] = (),
             by: str = "sam@ourco.com") -> int:
        """A touchpoint as the poller logs one from mail (a reply in `parent`'s thread when
        given), with attachments kept as (file name, content type, bytes); its id."""
        import hashlib

        from store.models import database
        from store.timeline.touchpoints import NewTouchpoint, create_touchpoint, keep_attachment

        kept = []
        for name, content_type, data in attachments:
            sha = hashlib.sha256(data).hexdigest()
            keep_attachment(self.settings.attachments_path(), sha, data)
            kept.append({"filename": name, "content_type": content_type, "size": len(data),
                         "sha256": sha})
        self._mails = getattr(self, "_mails", 0) + 1
        new = NewTouchpoint(
            account_id=account, flow="Default", reasons=(), occurred_at=when or utcnow(),
            subject=subject, content=f"The text of {subject}", creator_id=None,
            creator_email=by, creator_domain=by.split("@")[-1], participants=participants,
            attachments=tuple(kept), message_key=f"key-{self._mails}-{subject[:20]}",
            message_id=f"m{self._mails}@ourco.com", mailbox="INBOX", uid=self._mails,
            scenario="copy", rule="contact", trace={}, parent_id=parent)
        with database.atomic():
            return create_touchpoint(new).id

    def plant_hostile(self) -> int:
        """A touchpoint whose every text a stranger wrote: subject, content, a participant's
        name and an attachment's file name hold script and control characters."""
        return self.mail(
            subject=f"{HOSTILE} {CONTROLS}",
            participants=({"email": "mallory@evil.com", "name": f"{HOSTILE}{CONTROLS}",
                           "role": "external"},),
            attachments=((f"{HOSTILE}{CONTROLS}.html", "text/html",
                          b"<script>alert(3)</script>"),))


def text_of(response: TestResponse) -> str:
    """A page's words, tags dropped, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.text)).split())


def unlabelled(page_text: str) -> list[str]:
    """The ids of the page's fields that no <label for=…> names (a hidden field needs none)."""
    ids = re.findall(r'<(?:input|select|textarea)(?![^>]*type="hidden")[^>]* id="([^"]+)"',
                     page_text)
    return [i for i in ids if not re.search(f'<label[^>]* for="{re.escape(i)}"', page_text)]


def headings_skip(page_text: str) -> list[int]:
    """Heading levels that skip one (an h3 after an h1 …); the page must start with an h1."""
    levels = [int(h) for h in re.findall(r"<h([1-6])[\s>]", page_text)]
    assert levels and levels[0] == 1, levels
    return [b for a, b in zip(levels, levels[1:], strict=False) if b - a > 1]
