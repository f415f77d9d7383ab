"""The server time of `GET /review` (SPEC 21, 22) with N failures in the failed folder.

    python bench/bench_review.py --size tiny     # 100 failures (CI: checks it runs)
    python bench/bench_review.py --size small    # 1,000: the target, under 100 ms
    python bench/bench_review.py --size full     # 10,000

Starts a throwaway Dovecot on loopback, seeds the inbox with mail that fails (half to customers
nobody knows, half naming a domain two accounts share, so those carry suggestions), runs one
`poll --once` so the failed folder and the ledger are as production leaves them, then asks the
web app (create_app, Flask's test client: the server's time, no network) for the first page and
a later one, as an admin, and times:

- the whole request (the IMAP session kept between page views, the page's UIDs and envelopes,
  the ledger, the suggestions, the audit row, rendering), median and 95th percentile;
- what the page reads of the folder, and, beside it, what reading the whole folder's envelopes
  costs (`touchlog failures`), the design the page does not use (bench/README.md says why).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.settings import Settings, settings_from_dict  # noqa: E402
from tools.dovecot import Dovecot  # noqa: E402

SIZES = {"tiny": 100, "small": 1000, "full": 10000}
TARGET_MS = 100.0
PASSWORD = "bench-pw"
AUTHSERV_ID = "mx.ourco.com"
AUTH = (f"{AUTHSERV_ID}; dkim=pass header.i=@ourco.com header.s=s1; spf=pass "
        "smtp.mailfrom=sam@ourco.com; dmarc=pass header.from=ourco.com")
TIMES = 25


def failing(n: int) -> bytes:
    msg = EmailMessage()
    msg["Authentication-Results"] = AUTH
    msg["From"] = "Sam Seller <sam@ourco.com>"
    if n % 2:
        msg["To"] = f"jill{n}@unknown{n}.example"
        msg["Subject"] = f"Renewal call #{n}"
    else:
        msg["To"] = "touchpoints@ourco.com"
        msg["Subject"] = f"x@cust{n % 200}.com call notes"
    msg["Date"] = format_datetime(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=n))
    msg["Message-ID"] = f"<review-{n}@ourco.com>"
    msg.set_content("We went through the rollout plan and agreed on the next steps. " * 40)
    return bytes(msg)


def install(folder: Path, server: Dovecot) -> Settings:
    (folder / "team.csv").write_text("email,name,role,aliases\nsam@ourco.com,Sam,user,\n"
                                     "ann@ourco.com,Ann,admin,\n")
    accounts = ["account_id,name,parent_id,email_domains,default_bcc,contact_matches_only"]
    for i in range(200):  # two accounts a domain: naming one of its addresses is ambiguous
        accounts += [f"A{i},Account {i},,cust{i}.com,false,false",
                     f"B{i},Branch {i},,cust{i}.com,false,false"]
    (folder / "accounts.csv").write_text("\n".join(accounts) + "\n")
    os.environ["BENCH_IMAP_PASSWORD"] = PASSWORD
    settings = settings_from_dict({
        "mailbox": {"host": "127.0.0.1", "port": server.port, "tls": "none",
                    "username": "review@ourco.com", "password_env": "BENCH_IMAP_PASSWORD"},
        "database": {"url": f"sqlite:///{folder / 'review.db'}"},
        "touchpoints": {"mailbox_address": "touchpoints@ourco.com",
                        "internal_domains": ["ourco.com"]},
        "notify": {"enabled": False},
        "trust": {"authserv_ids": [AUTHSERV_ID]},
        "web": {"base_url": "http://127.0.0.1:8765"},
    }, base_dir=folder)
    from store.db import open_database
    from store.directory.import_accounts import import_accounts
    from store.directory.import_team import import_team

    open_database(settings.database_url())
    import_team(folder / "team.csv")
    import_accounts(folder / "accounts.csv")
    return settings


def timed(call: object, times: int = TIMES) -> list[float]:
    found = []
    for _ in range(times):
        start = time.perf_counter()
        call()  # type: ignore[operator]
        found.append((time.perf_counter() - start) * 1000)
    return found


def summary(ms: list[float]) -> str:
    p95 = sorted(ms)[max(0, round(len(ms) * 0.95) - 1)]
    return f"median {statistics.median(ms):7.1f} ms, p95 {p95:7.1f} ms"


def measure(settings: Settings, count: int) -> bool:
    from poller.failed.folder import list_failures
    from poller.failed.review import queue_page
    from poller.passes.poll import poll_once
    from store.access.sessions import start_session
    from store.models import TeamMember
    from web.app import create_app
    from web.gate import SESSION_COOKIE

    start = time.perf_counter()
    report = poll_once(settings)
    print(f"{count:,} failures: one pass in {time.perf_counter() - start:.1f} s "
          f"({report.summary()})")
    app = create_app(settings)
    keys = app.extensions["touchlog"].keys
    ann = TeamMember.get(TeamMember.email == "ann@ourco.com")
    client = app.test_client()
    client.set_cookie(SESSION_COOKIE, start_session(ann, 8, keys.session, datetime.now()))
    last = (count + 49) // 50
    for path in ("/review", f"/review?page={last}"):
        assert client.get(path).status_code == 200, path
    first = timed(lambda: client.get("/review"))
    later = timed(lambda: client.get(f"/review?page={last}"))
    window = timed(lambda: queue_page(settings, 1))
    whole = timed(lambda: list_failures(settings), times=5)
    print(f"GET /review (page 1 of {last}):        {summary(first)}")
    print(f"GET /review?page={last} (the oldest):{' ' * max(0, 9 - len(str(last)))}"
          f"{summary(later)}")
    print(f"  of which the page's failures (IMAP + ledger): {summary(window)}")
    print(f"  beside it, the whole folder's envelopes (touchlog failures): {summary(whole)}")
    ok = statistics.median(first) < TARGET_MS and statistics.median(later) < TARGET_MS
    print(f"target: under {TARGET_MS:.0f} ms: {'met' if ok else 'MISSED'}; "
          f"load average {os.getloadavg()[0]:.2f}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    size = parser.parse_args().size
    count = SIZES[size]
    with tempfile.TemporaryDirectory(prefix="touchlog-bench-") as tmp:
        folder = Path(tmp)
        server = Dovecot(folder / "dovecot", users={"review@ourco.com": PASSWORD})
        server.start()
        try:
            server.seed("review@ourco.com", [failing(n) for n in range(count)])
            ok = measure(install(folder, server), count)
        finally:
            server.stop()
    if not ok and size != "tiny":
        sys.exit(1)


if __name__ == "__main__":
    main()
