"""The timeline page of a large account (`GET /accounts/ID`, SPEC 21): server time, through the
Flask app in-process and through waitress over HTTP. The goal: under 100 ms for each.

    python bench/bench_web.py --size tiny      # 2,000 touchpoints on the account (CI)
    python bench/bench_web.py                  # 100,000 (the goal's size)
    python bench/bench_web.py --size full      # 1,000,000
    python bench/bench_web.py --postgres       # also on a throwaway PostgreSQL cluster

The database is bench_timeline's (one big account among 20 smaller ones, a tenth of its
touchpoints internal notes, one in a hundred deleted), spread over the five years up to today
so the chart's 26 weeks are full, with one touchpoint in ten a reply folded under the one
before it and one in a hundred mailed outside. A member signed in (a session row, as the
sign-in link makes one). Each page is asked for `--runs` times after a warm-up; the median is
printed, with the load average of the machine at the time (the machine is shared).

Pages: the first; a filtered one (no notes, the last year); a deep one (page 200: a keyset
place 10,000 touchpoints down, as the 199th "Older" link gives it). The parts of the first page
(the page's queries, the chart's, the last touch) are timed alone too.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_timeline  # noqa: E402
from peewee import PostgresqlDatabase  # noqa: E402

from core.settings import load_settings  # noqa: E402
from core.utc import utcnow  # noqa: E402
from store.access.keys import web_keys  # noqa: E402
from store.access.sessions import start_session  # noqa: E402
from store.db import open_database  # noqa: E402
from store.models import TeamMember  # noqa: E402
from store.timeline.accounts import last_touch_at  # noqa: E402
from store.timeline.pages import timeline_page, weekly  # noqa: E402
from store.timeline.touchpoints import Filter  # noqa: E402

SIZES = {"tiny": 2_000, "small": 100_000, "full": 1_000_000}
TARGET_MS = 100.0
COOKIE = "touchlog_session"


def build(url: str, big: int) -> float:
    """bench_timeline's rows up to today, then threads and mailed copies on BIG."""
    bench_timeline.START = utcnow().replace(microsecond=0) - timedelta(days=5 * 365)
    db, seconds = open_database(url), 0.0
    if not isinstance(db, PostgresqlDatabase):
        db.close()
        seconds = bench_timeline.build(url, big)
        db = open_database(url)
    started = time.perf_counter()
    with db.atomic():
        if isinstance(db, PostgresqlDatabase):  # one statement a page of rows, not a row
            _insert_postgres(db, big)
        db.execute_sql("UPDATE touchpoint SET parent_id = id - 1, thread_id = id - 1 "
                       "WHERE account_id = 'BIG' AND id - id / 10 * 10 = 0 "
                       "AND type <> 'internal_note'")
        db.execute_sql("INSERT INTO touchpointmail (touchpoint_id, message_id, audience, "
                       "recipients, sent_by, sent_at) SELECT id, 'copy' || id || '@ourco.com', "
                       "'external', '[\"wile@acme.com\"]', 'sam@ourco.com', occurred_at "
                       "FROM touchpoint WHERE account_id = 'BIG' AND id - id / 100 * 100 = 7")
    # VACUUM too on PostgreSQL: the visibility map index-only scans need, and no autovacuum
    # of the fresh rows running while the pages are timed.
    db.execute_sql("VACUUM ANALYZE" if isinstance(db, PostgresqlDatabase) else "ANALYZE")
    db.close()
    return seconds + time.perf_counter() - started


def _insert_postgres(db: PostgresqlDatabase, big: int) -> None:
    from psycopg2.extras import execute_values

    db.execute_sql("INSERT INTO teammember (email, name, role) VALUES (%s, %s, %s)",
                   ("sam@ourco.com", "Sam", "user"))
    for acc in bench_timeline.ACCOUNTS:
        db.execute_sql("INSERT INTO account (account_id, name, default_bcc, "
                       "contact_matches_only) VALUES (%s, %s, false, false)",
                       (acc, f"Account {acc}"))
    execute_values(db.cursor(), f"INSERT INTO touchpoint ({bench_timeline.COLUMNS}) VALUES %s",
                   bench_timeline.rows(big), page_size=2000)


def write_settings(folder: Path, url: str) -> Path:
    config = folder / "settings.toml"
    config.write_text(f'[database]\nurl = "{url}"\n[notify]\nenabled = false\n'
                      '[web]\nbase_url = "http://127.0.0.1"\n')
    return config


def sign_in(url: str) -> str:
    """A session for the bench's member, as the sign-in link would start it: its cookie."""
    open_database(url)
    member = TeamMember.get(TeamMember.email == "sam@ourco.com")
    return start_session(member, 8, web_keys().session, utcnow())


def paths(url: str) -> dict[str, str]:
    """The pages asked for; the deep one's place comes from the timeline's own order."""
    open_database(url)
    page, where = None, Filter(account_id="BIG")
    for _ in range(199):  # the 199th "Older" link: page 200
        page = timeline_page(where)
        if page.older is None:
            break
        where = Filter(account_id="BIG", before=page.older)
    assert page is not None
    place = page.older or (page.rows[-1].tp.occurred_at, page.rows[-1].tp.id)
    since = (utcnow() - timedelta(days=365)).date().isoformat()
    return {"first page": "/accounts/BIG",
            "filtered (no notes, last year)": f"/accounts/BIG?notes=none&since={since}",
            "deep (page 200)": f"/accounts/BIG?before={place[0]:%Y-%m-%dT%H:%M:%S.%f}_{place[1]}"}


def median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def in_process(config: Path, cookie: str, pages: dict[str, str], runs: int) -> dict[str, float]:
    from web.app import create_app

    app = create_app(load_settings(config))
    client = app.test_client()
    client.set_cookie(COOKIE, cookie)

    def get(path: str) -> None:
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])

    return {name: median_ms(lambda p=path: get(p), runs) for name, path in pages.items()}


def over_http(config: Path, cookie: str, pages: dict[str, str], runs: int) -> dict[str, float]:
    """`touchlog serve` (waitress) in a process of its own; one kept-alive connection."""
    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "--config", str(config),
                               "serve", "--listen", f"127.0.0.1:{port}"], text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert line.startswith("serving"), (line, server.stderr.read() if server.stderr else "")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

        def get(path: str) -> None:
            connection.request("GET", path, headers={"Cookie": f"{COOKIE}={cookie}"})
            answer = connection.getresponse()
            body = answer.read()
            assert answer.status == 200, (path, answer.status, body[:300])

        return {name: median_ms(lambda p=path: get(p), runs) for name, path in pages.items()}
    finally:
        server.terminate()
        server.wait(timeout=30)


def parts(url: str, runs: int) -> dict[str, float]:
    open_database(url)
    today = utcnow().date()
    return {"the page's queries (50, folded)": median_ms(
                lambda: timeline_page(Filter(account_id="BIG")), runs),
            "the chart's query (26 weeks)": median_ms(lambda: weekly("BIG", today), runs),
            "the last touch": median_ms(lambda: last_touch_at("BIG"), runs)}


def run(folder: Path, size: str, url: str, runs: int) -> bool:
    big = SIZES[size]
    seconds = build(url, big)
    kind = url.split(":")[0]
    print(f"{kind}: built {big:,} touchpoints on BIG (+{big // 10:,} on 20 others) in "
          f"{seconds:.1f} s")
    config = write_settings(folder, url)
    cookie = sign_in(url)
    pages = paths(url)
    ok = True
    for how, figures in (("in-process (Flask)", in_process(config, cookie, pages, runs)),
                         ("over HTTP (waitress)", over_http(config, cookie, pages, runs))):
        for name, ms in figures.items():
            ok = ok and ms < TARGET_MS
            print(f"{kind} {how:<22} {name:<32} {ms:7.1f} ms   load {_load()}")
    for name, ms in parts(url, runs).items():
        print(f"{kind} {'part':<22} {name:<32} {ms:7.1f} ms")
    print(f"{kind}: target {TARGET_MS:.0f} ms for every page: {'met' if ok else 'MISSED'}")
    return ok


def _load() -> str:
    return " ".join(f"{n:.2f}" for n in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--runs", type=int, default=25, help="requests per page (median)")
    parser.add_argument("--dir", help="where the temporary database goes (default: a temp dir)")
    parser.add_argument("--postgres", action="store_true",
                        help="also on a throwaway PostgreSQL cluster (tools/postgres.py)")
    args = parser.parse_args()
    runs = 3 if args.size == "tiny" else args.runs
    print(f"{datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} cores, load {_load()}")
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="touchlog-bench-web-") as name:
        folder = Path(name)
        ok = run(folder, args.size, f"sqlite:///{folder / 'web.db'}", runs)
        if args.postgres:
            from tools.postgres import Postgres

            with Postgres() as server:
                ok = run(folder, args.size, server.create_database("bench_web"), runs) and ok
    if not ok and args.size != "tiny":
        sys.exit(1)


if __name__ == "__main__":
    main()
