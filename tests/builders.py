"""Small builders for test mail and a test directory, so each test says only what matters."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import format_datetime, getaddresses, make_msgid
from pathlib import Path

from core.settings import Settings, settings_from_dict

# The authserv-id of the test's own receiving mail server (SPEC 11): every test installation
# trusts it (settings_for, World.write_settings), and test mail carries its verdict on top.
TEST_AUTHSERV_ID = "test-mx.ourco.com"
_AR = "Authentication-Results"

TEAM_CSV = """email,name,role,aliases
sam@ourco.com,Sam Seller,user,sam.alias@ourco.com;Sam.S@sales.ourco.com
ann@ourco.com,Ann Admin,admin,
"""
ACCOUNTS_CSV = """account_id,name,parent_id,email_domains,default_bcc,contact_matches_only
ACME,Acme Corp,,acme.com,false,false
ROAD,Roadrunner Inc,,,false,false
GLOBEX,Globex,,globex.com,false,false
GLOBEX-EU,Globex Europe,GLOBEX,,false,false
INITECH,Initech,,initech.com,false,false
INITECH2,Initech Labs,,initech.com,false,false
"""
USERS_CSV = """email,account_id,last_activity
wile@acme.com,ACME,2026-01-10
beep@road.com,ROAD,2026-02-01
hank@globex.com,GLOBEX,2026-03-01
hank@globex.com,GLOBEX-EU,2026-04-01
"""


def write_directory(folder: Path, team: str = TEAM_CSV, accounts: str = ACCOUNTS_CSV,
                    users: str = USERS_CSV) -> dict[str, Path]:
    paths = {}
    for name, text in (("team", team), ("accounts", accounts), ("users", users)):
        paths[name] = folder / f"{name}.csv"
        paths[name].write_text(text)
    return paths


def import_directory(folder: Path, **csv_texts: str) -> None:
    from store.directory.import_accounts import import_accounts
    from store.directory.import_team import import_team
    from store.directory.import_users import import_users

    paths = write_directory(folder, **csv_texts)
    import_team(paths["team"])
    import_accounts(paths["accounts"])
    import_users(paths["users"])


def authenticated(raw: bytes, verdict: str | None = None) -> bytes:
    """`raw` as the test's receiving server delivers it: its Authentication-Results header on
    top, saying the From's domain passed DMARC, or saying `verdict` (e.g. "dmarc=fail
    header.from=ourco.com"). Mail that already carries a header of the test server, or has no
    From, is returned as it is: a test that wrote the server's verdict itself means it."""
    head = BytesHeaderParser().parsebytes(raw)
    if verdict is None:
        if any(str(v).strip().lower().startswith(TEST_AUTHSERV_ID)
               for v in head.get_all(_AR) or []):
            return raw
        senders = [a for _, a in getaddresses([str(v) for v in head.get_all("From") or []])
                   if "@" in a]
        if not senders:
            return raw
        verdict = f"dmarc=pass (p=reject) header.from={senders[0].rpartition('@')[2].lower()}"
    newline = b"\r\n" if b"\r\n" in raw[:4096] else b"\n"
    return f"{_AR}: {TEST_AUTHSERV_ID}; {verdict}".encode() + newline + raw


def make_mail(sender: str = "Sam Seller <sam@ourco.com>", to: str | None = None,
              cc: str | None = None, subject: str = "Pricing follow-up",
              body: str = "Hi Wile, here is the pricing we discussed.",
              date: datetime | None = datetime(2026, 11, 2, 14, 30, tzinfo=UTC),
              message_id: str | None = None, headers: dict[str, str] | None = None,
              html: str | None = None, auth: str | None = "pass") -> bytes:
    """A message as the mailbox receives it. `auth`: "pass" (the test server's DMARC pass for
    the From domain, on top), another verdict such as "dmarc=fail header.from=ourco.com", or
    None for no Authentication-Results header at all."""
    msg = EmailMessage()
    msg["From"] = sender
    if to:
        msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    if date is not None:
        msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id or make_msgid(domain="ourco.com")
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    if auth is None:
        return bytes(msg)
    return authenticated(bytes(msg), None if auth == "pass" else auth)


def settings_for(folder: Path, imap: dict | None = None, smtp: dict | None = None,
                 **touchpoints: object) -> Settings:
    raw: dict = {
        "database": {"url": f"sqlite:///{folder / 'touchlog.db'}"},
        "touchpoints": {"mailbox_address": "touchpoints@ourco.com",
                        "internal_domains": ["ourco.com"], **touchpoints},
        "notify": {"enabled": False},
        "trust": {"authserv_ids": [TEST_AUTHSERV_ID]},
    }
    if imap:
        raw["mailbox"] = imap
    if smtp:
        raw["notify"] = {"enabled": True, **smtp}
    return settings_from_dict(raw, base_dir=folder)


def break_on(monkeypatch, word: str, error: str) -> None:
    """A bug that only a message whose subject holds `word` meets: the filters step raises
    RuntimeError(error) for it; the pass's own catch point is what the test checks."""
    import poller.understand.filters as filters

    real = filters.skip_reason

    def buggy(msg):
        if word in msg.subject:
            raise RuntimeError(error)
        return real(msg)

    monkeypatch.setattr(filters, "skip_reason", buggy)


def alive(pid: int) -> bool:
    """The process runs (a zombie, ended but not reaped, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"
