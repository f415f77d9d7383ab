"""A whole `poll --once` pass against a raw IMAP fetch of the same mailbox, in the same run.

    python bench/bench_poll.py --size tiny     # 200 messages, a few seconds (CI)
    python bench/bench_poll.py --size small    # 2,000
    python bench/bench_poll.py --size full     # 10,000

Starts a throwaway Dovecot on loopback, seeds two identical inboxes with a mix of mail (copies to
known contacts, notes, unknown customers, auto-replies; ~12 KB each), times a bare imapclient
`BODY.PEEK[]` fetch of one in batches, then a full touchlog pass (fetch, understand, resolve,
commit per message to SQLite, move per batch) over the other. Prints messages per second, the
ratio between the two, and peak memory.

Every message carries the Authentication-Results of the bench's own inbound server (Gmail's
layout; one in ten a DKIM-only pass of a subdomain, so the Public Suffix List is loaded), which
the settings trust (SPEC 11). In the same run the sender authentication check is timed on its
own over the same messages, with the List's one-time load and the extra header's parse cost,
and printed as a share of the pass.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from imapclient import IMAPClient  # noqa: E402

from core.settings import settings_from_dict  # noqa: E402
from poller.passes.poll import poll_once  # noqa: E402
from store.db import open_database  # noqa: E402
from store.directory.import_accounts import import_accounts  # noqa: E402
from store.directory.import_team import import_team  # noqa: E402
from store.directory.import_users import import_users  # noqa: E402
from tools.dovecot import Dovecot  # noqa: E402

SIZES = {"tiny": 200, "small": 2000, "full": 10000}
PASSWORD = "bench-pw"
FILLER = ("We went through the rollout plan line by line and agreed on the next steps. " * 150)


AUTHSERV_ID = "mx.ourco.com"
GMAIL_LAYOUT = (f"{AUTHSERV_ID}; dkim=pass header.i=@ourco.com header.s=20230601 "
                "header.b=fpxRepVP; spf=pass (mx.ourco.com: domain of sam@ourco.com "
                "designates 209.85.220.41 as permitted sender) smtp.mailfrom=sam@ourco.com; "
                "dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=ourco.com")
DKIM_ONLY = f"{AUTHSERV_ID}; dkim=pass (2048-bit key) header.d=mail.ourco.com header.s=s1"


def sample(n: int, authenticated: bool = True) -> bytes:
    msg = EmailMessage()
    if authenticated:
        msg["Authentication-Results"] = DKIM_ONLY if n % 10 == 3 else GMAIL_LAYOUT
    msg["From"] = "Sam Seller <sam@ourco.com>"
    kind = n % 10
    if kind < 6:
        msg["To"] = f"contact{n % 500}@cust{n % 500}.com"
    elif kind < 8:
        msg["To"] = "touchpoints@ourco.com"
    else:
        msg["To"] = f"stranger{n}@nowhere{n}.example"
    msg["Subject"] = f"contact{n % 500}@cust{n % 500}.com call notes" if kind in (6, 7) \
        else f"Rollout plan #{n}"
    if kind == 9:
        msg["Auto-Submitted"] = "auto-replied"
    msg["Date"] = format_datetime(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=n))
    msg["Message-ID"] = f"<bench-{n}@ourco.com>"
    msg.set_content(FILLER)
    return bytes(msg)


def write_directory(folder: Path) -> None:
    (folder / "team.csv").write_text("email,name,role,aliases\nsam@ourco.com,Sam,user,\n")
    accounts = ["account_id,name,parent_id,email_domains,default_bcc,contact_matches_only"]
    users = ["email,account_id,last_activity"]
    for i in range(500):
        accounts.append(f"A{i},Account {i},,cust{i}.com,false,false")
        users.append(f"contact{i}@cust{i}.com,A{i},2026-01-01")
    (folder / "accounts.csv").write_text("\n".join(accounts) + "\n")
    (folder / "users.csv").write_text("\n".join(users) + "\n")
    import_team(folder / "team.csv")
    import_accounts(folder / "accounts.csv")
    import_users(folder / "users.csv")


def raw_fetch_rate(server: Dovecot, user: str, batch: int) -> tuple[float, int]:
    start = time.perf_counter()
    with IMAPClient("127.0.0.1", port=server.port, ssl=False) as client:
        client._imap.debug = 0
        client.login(user, PASSWORD)
        client.select_folder("INBOX")
        uids = client.search(["UNDELETED"])
        total = 0
        for i in range(0, len(uids), batch):
            for item in client.fetch(uids[i:i + batch], [b"BODY.PEEK[]"]).values():
                total += len(item[b"BODY[]"])
    return len(uids) / (time.perf_counter() - start), total


def poll_rate(server: Dovecot, user: str, folder: Path, count: int) -> tuple[float, str]:
    settings = settings_from_dict({
        "mailbox": {"host": "127.0.0.1", "port": server.port, "tls": "none", "username": user,
                    "password_env": "BENCH_IMAP_PASSWORD"},
        "database": {"url": f"sqlite:///{folder / 'bench.db'}"},
        "touchpoints": {"mailbox_address": "touchpoints@ourco.com",
                        "internal_domains": ["ourco.com"]},
        "notify": {"enabled": False},
        "trust": {"authserv_ids": [AUTHSERV_ID]},
    }, base_dir=folder)
    start = time.perf_counter()
    report = poll_once(settings)
    return count / (time.perf_counter() - start), report.summary()


def authentication_cost(mail: list[bytes], count: int) -> tuple[float, float, float]:
    """Seconds the sender authentication check adds to a pass of these messages: the check
    itself, the Public Suffix List's one-time read, and parsing the extra header."""
    from core.sections import TrustSettings
    from poller.mail.message import parse_message
    from poller.understand import suffixes, trust

    settings = TrustSettings((AUTHSERV_ID,))
    messages = [parse_message(raw) for raw in mail]
    suffixes._list.cache_clear()  # the read a fresh `poll --once` process pays
    suffixes._registrable.cache_clear()
    start = time.perf_counter()
    suffixes.organisational_domain("ourco.com")
    listed = time.perf_counter() - start
    start = time.perf_counter()
    for msg in messages:
        assert trust.authenticate(msg, settings, lambda address: False) is None
    checked = time.perf_counter() - start
    header = _header_parse_time(count)
    return checked, listed, header


def _header_parse_time(count: int) -> float:
    """What the extra header adds to parsing, measured on a message that is nothing but
    headers: the difference between two whole 12 KB parses is lost in their noise."""
    import timeit

    from poller.mail.message import parse_message

    bare = b"From: Sam Seller <sam@ourco.com>\r\nSubject: x\r\n\r\nx\r\n"
    stamped = f"Authentication-Results: {GMAIL_LAYOUT}\r\n".encode() + bare
    runs = {raw: min(timeit.repeat(lambda raw=raw: parse_message(raw), number=1000, repeat=7,
                                   timer=time.process_time)) / 1000
            for raw in (bare, stamped)}
    return max(0.0, runs[stamped] - runs[bare]) * count


def main() -> None:
    import os

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZES, default="small")
    count = SIZES[parser.parse_args().size]
    os.environ["BENCH_IMAP_PASSWORD"] = PASSWORD
    with tempfile.TemporaryDirectory(prefix="touchlog-bench-") as tmp:
        folder = Path(tmp)
        server = Dovecot(folder / "dovecot", users={"raw@ourco.com": PASSWORD,
                                                    "poll@ourco.com": PASSWORD})
        server.start()
        try:
            mail = [sample(n) for n in range(count)]
            for user in ("raw@ourco.com", "poll@ourco.com"):
                server.seed(user, mail)
            open_database(f"sqlite:///{folder / 'bench.db'}")
            write_directory(folder)
            fetch, size = raw_fetch_rate(server, "raw@ourco.com", 200)
            rate, summary = poll_rate(server, "poll@ourco.com", folder, count)
            auth = authentication_cost(mail, count)
        finally:
            server.stop()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{count} messages, {size / count / 1024:.1f} KB each")
    print(f"raw IMAP fetch (BODY.PEEK[], batches of 200): {fetch:,.0f} msg/s")
    print(f"touchlog poll --once:                          {rate:,.0f} msg/s  ({summary})")
    print(f"ratio poll/raw-fetch time: {fetch / rate:.1f}x")
    checked, listed, header = auth
    share = (checked + listed + header) / (count / rate)
    print(f"sender authentication: check {checked / count * 1e6:.1f} µs a message, parsing "
          f"its header {header / count * 1e6:.1f} µs a message, Public Suffix List "
          f"{listed * 1e3:.1f} ms once")
    print(f"ratio authentication/pass time: {share:.2%} (SPEC 11 budget: under 2%)")
    print(f"peak process RSS: {peak:.0f} MB")


if __name__ == "__main__":
    main()
