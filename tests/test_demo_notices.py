"""The demo prints the notices its SMTP sink logged as a person reads them, not raw QP."""

from __future__ import annotations

import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_logged_notices_are_printed_decoded(tmp_path):
    msg = EmailMessage()
    msg["To"] = "chuck.jones@ourco.com"
    msg["Subject"] = "Touchpoint not logged: Intro call"
    msg.set_content("Why: No account has a contact with the addresses considered, nor a contact "
                    "or an email domain at their domains.\n\n-- \ntouchlog: sent automatically.",
                    cte="quoted-printable")
    raw = msg.as_string()
    assert "--=20" in raw  # quoted-printable, as the sink logs it
    log = tmp_path / "smtp.log"
    log.write_text("---------- MESSAGE FOLLOWS ----------\n" + raw
                   + "X-Peer: ('127.0.0.1', 1)\n------------ END MESSAGE ------------\n")
    out = subprocess.run([sys.executable, str(ROOT / "demo" / "show_notices.py"), str(log)],
                         capture_output=True, text=True, check=True).stdout
    assert out.startswith("--- to chuck.jones@ourco.com: Touchpoint not logged: Intro call\n")
    assert "nor a contact or an email domain at their domains." in out
    assert "\n-- \ntouchlog: sent automatically." in out
    assert "=20" not in out and "=\n" not in out
