"""The lean floor: what a careful engineer writes in an afternoon with the standard library alone.

imaplib + email + sqlite3 + batch MOVE, one process: fetch 200 UIDs at a time with BODY.PEEK[],
parse each with `email.message_from_bytes(raw, policy=email.policy.default)` (the documented
modern API: decoded headers, `get_body()`), skip auto-replies and bulk mail, take the first
address outside ourco.com, find its account (contact by address, else by domain, both indexed),
insert a touchpoint per message with its text, commit the batch, then UID MOVE the logged and the
failed UIDs, one command each. No forwards, threads, attachments kept, notices or traces: it is
the floor, the least any worker must do.

    python bench/lean_peer.py HOST PORT USER PASSWORD DB   # prints "N msg/s RSS_MB"
"""

from __future__ import annotations

import email
import email.policy
import imaplib
import resource
import sqlite3
import sys
import time
from email.utils import getaddresses

BATCH = 200
INTERNAL = "ourco.com"


def setup(db: sqlite3.Connection, users_csv: str) -> None:
    db.executescript("""
        CREATE TABLE IF NOT EXISTS contact (email TEXT PRIMARY KEY, account TEXT);
        CREATE TABLE IF NOT EXISTS domain (domain TEXT PRIMARY KEY, account TEXT);
        CREATE TABLE IF NOT EXISTS touchpoint (id INTEGER PRIMARY KEY, account TEXT,
            message_id TEXT UNIQUE, sender TEXT, subject TEXT, content TEXT, sent TEXT);
    """)
    with open(users_csv) as f:
        next(f)
        rows = [line.strip().split(",")[:2] for line in f if line.strip()]
    db.executemany("INSERT OR IGNORE INTO contact VALUES (?, ?)", rows)
    db.executemany("INSERT OR IGNORE INTO domain VALUES (?, ?)",
                   [(e.split("@")[1], a) for e, a in rows])
    db.commit()


def account_of(db: sqlite3.Connection, address: str) -> str | None:
    row = db.execute("SELECT account FROM contact WHERE email = ?", (address,)).fetchone()
    if row is None:
        row = db.execute("SELECT account FROM domain WHERE domain = ?",
                         (address.rpartition("@")[2],)).fetchone()
    return row[0] if row else None


def handle(db: sqlite3.Connection, raw: bytes) -> bool:
    """True: logged or skipped; False: failed."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    if msg.get("Auto-Submitted", "no").lower() != "no" or msg.get("Precedence") == "bulk":
        return True
    sender = getaddresses([str(msg.get("From", ""))])[0][1].lower()
    if not sender.endswith("@" + INTERNAL):
        return False
    people = getaddresses([str(v) for k in ("To", "Cc") for v in msg.get_all(k, [])])
    outside = [a.lower() for _, a in people if a and not a.lower().endswith("@" + INTERNAL)]
    account = account_of(db, outside[0]) if outside else None
    if account is None:
        return False
    body = msg.get_body(("plain", "html"))
    text = body.get_content() if body is not None else ""
    db.execute("INSERT OR IGNORE INTO touchpoint (account, message_id, sender, subject, content,"
               " sent) VALUES (?, ?, ?, ?, ?, ?)",
               (account, str(msg.get("Message-ID", "")), sender, str(msg.get("Subject", "")),
                text, str(msg.get("Date", ""))))
    return True


def run(host: str, port: int, user: str, password: str, db_path: str) -> int:
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    imap = imaplib.IMAP4(host, port)
    imap.login(user, password)
    for folder in ("Logged", "Failed"):
        imap.create(folder)
    imap.select("INBOX")
    uids = imap.uid("SEARCH", "ALL")[1][0].split()
    for start in range(0, len(uids), BATCH):
        batch = b",".join(uids[start:start + BATCH])
        typ, data = imap.uid("FETCH", batch, "(BODY.PEEK[])")
        ok, bad = [], []
        for item in data:
            if not isinstance(item, tuple):
                continue
            uid = item[0].split(b"UID ")[1].split()[0]
            (ok if handle(db, item[1]) else bad).append(uid)
        db.commit()
        for folder, moved in (("Logged", ok), ("Failed", bad)):
            if moved:
                imap.uid("MOVE", b",".join(moved), folder)
    imap.logout()
    return len(uids)


def main() -> None:
    host, port, user, password, db_path, users_csv = sys.argv[1:7]
    db = sqlite3.connect(db_path)
    setup(db, users_csv)
    db.close()
    start = time.perf_counter()
    count = run(host, int(port), user, password, db_path)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{count} {count / seconds:.1f} {peak:.1f}")


if __name__ == "__main__":
    main()
