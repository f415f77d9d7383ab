"""The timeline's first page over a large account: `touchpoints --account ID --limit 50`.

    python bench/bench_timeline.py --size tiny     # 2,000 touchpoints on the account (CI)
    python bench/bench_timeline.py                 # 100,000 on the account (the target: the
                                                   # first page in under 50 ms)
    python bench/bench_timeline.py --size full     # 1,000,000 on the account

Builds a SQLite database with one big account (a tenth of its touchpoints internal notes, one in
a hundred deleted) among 20 smaller ones, then times, median of 25 runs: the first page of the
timeline (the query and the JSON), its filtered variants (--no-notes, --notes, --type, --since),
the whole `touchlog touchpoints` command run in-process (settings, open, query, JSON; not the
Python start-up), and the `accounts` summary. Prints each query's plan: all are index scans.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from click.testing import CliRunner  # noqa: E402
from peewee import Database, SqliteDatabase  # noqa: E402

from cli import main  # noqa: E402
from store.db import open_database  # noqa: E402
from store.timeline.accounts import summary  # noqa: E402
from store.timeline.touchpoints import Filter, as_json, timeline, timeline_query  # noqa: E402

SIZES = {"tiny": 2_000, "small": 100_000, "full": 1_000_000}
OTHERS = 20
TARGET_MS = 50.0
RUNS = 25
START = datetime(2020, 1, 1)
TYPES = ("email", "telephone_call", "web_meeting", "in_person_meeting")


COLUMNS = ("account_id, type, flow, reasons, occurred_at, subject, content, creator_id, "
           "creator_email, creator_domain, participants, attachments, message_key, message_id, "
           "mailbox, uid, scenario, rule, trace, created_at, source, deleted_at")
ACCOUNTS = ["BIG"] + [f"A{i:02d}" for i in range(OTHERS)]


def rows(big: int, seed: int = 7) -> list[tuple[object, ...]]:
    """`big` touchpoints on BIG and a tenth as many spread over the others."""
    rng = random.Random(seed)
    made = []
    for n in range(big + big // 10):
        account = "BIG" if n < big else ACCOUNTS[1 + n % OTHERS]
        kind = "internal_note" if rng.random() < 0.1 else rng.choice(TYPES)
        when = START + timedelta(minutes=rng.randrange(5 * 365 * 24 * 60))
        deleted = when if rng.random() < 0.01 else None
        made.append((account, kind, "Default", "[]", when, f"Subject {n}",
                     f"Content of touchpoint {n}. " * 8, 1, "sam@ourco.com", "ourco.com",
                     '[{"email": "wile@acme.com", "name": "Wile", "role": "external"}]', "[]",
                     f"k{n}", f"m{n}@ourco.com", "INBOX", n, "copy", "contact", "{}", when,
                     "email", deleted))
    return made


def build(url: str, big: int) -> float:
    """The schema as touchlog creates it, then the rows through the driver (fast)."""
    db = open_database(url)
    started = time.perf_counter()
    marks = ", ".join([db.param] * 22)
    with db.atomic():
        db.execute_sql("INSERT INTO teammember (email, name, role) VALUES "
                       f"({db.param}, {db.param}, {db.param})", ("sam@ourco.com", "Sam", "user"))
        for acc in ACCOUNTS:
            db.execute_sql("INSERT INTO account (account_id, name, default_bcc, "
                           f"contact_matches_only) VALUES ({db.param}, {db.param}, "
                           f"{db.param}, {db.param})", (acc, f"Account {acc}", False, False))
        cursor = db.cursor()
        cursor.executemany(f"INSERT INTO touchpoint ({COLUMNS}) VALUES ({marks})", rows(big))
    db.execute_sql("ANALYZE")
    db.close()
    return time.perf_counter() - started


def median_ms(fn: Callable[[], object]) -> float:
    fn()  # warm the page cache and the statement cache once
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def page(where: Filter) -> Callable[[], str]:
    return lambda: json.dumps([as_json(tp) for tp in timeline(where=where)])


def plan(db: Database, where: Filter) -> str:
    sql, params = timeline_query(where).sql()
    if isinstance(db, SqliteDatabase):
        found = db.execute_sql("EXPLAIN QUERY PLAN " + sql, params)
        return "; ".join(str(r[-1]) for r in found)
    lines = [r[0].strip() for r in db.execute_sql("EXPLAIN " + sql, params)]
    return "; ".join(line.split("  (cost")[0] for line in lines if "cost" in line)


def run(folder: Path, size: str, url: str) -> bool:
    big = SIZES[size]
    seconds = build(url, big)
    print(f"{url.split(':')[0]}: built {big:,} touchpoints on BIG (+{big // 10:,} on {OTHERS} "
          f"others) in {seconds:.1f} s")
    db = open_database(url)
    cases = {
        "first page (--account BIG --limit 50)": Filter(account_id="BIG", limit=50),
        "--no-notes --limit 50": Filter(account_id="BIG", notes=False, limit=50),
        "--notes --limit 50": Filter(account_id="BIG", notes=True, limit=50),
        "--type telephone_call --limit 50": Filter(account_id="BIG", type="telephone_call",
                                                   limit=50),
        "--since 2023-01-01 --limit 50": Filter(account_id="BIG", since=datetime(2023, 1, 1),
                                                limit=50),
    }
    ok = True
    for name, where in cases.items():
        ms = median_ms(page(where))
        ok = ok and (ms < TARGET_MS or not name.startswith("first page"))
        print(f"{name:<40} {ms:7.2f} ms   plan: {plan(db, where)}")
    config = folder / "settings.toml"
    config.write_text(f'[database]\nurl = "{url}"\n[notify]\nenabled = false\n')
    args = ["--config", str(config), "touchpoints", "--account", "BIG", "--limit", "50",
            "--format", "json"]
    ms = median_ms(lambda: CliRunner().invoke(main, args))
    print(f"{'whole command, in-process':<40} {ms:7.2f} ms")
    print(f"{'accounts summary (21 accounts)':<40} {median_ms(summary):7.2f} ms")
    print(f"target: first page under {TARGET_MS:.0f} ms: {'met' if ok else 'MISSED'}")
    db.close()
    return ok


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--dir", help="where the temporary database goes (default: a temp dir)")
    parser.add_argument("--postgres", action="store_true",
                        help="also on a throwaway PostgreSQL cluster (tools/postgres.py)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="touchlog-bench-") as folder:
        ok = run(Path(folder), args.size, f"sqlite:///{Path(folder) / 'timeline.db'}")
        if args.postgres:
            from tools.postgres import Postgres

            with Postgres() as server:
                ok = run(Path(folder), args.size, server.create_database("bench")) and ok
    if not ok and args.size != "tiny":
        sys.exit(1)


if __name__ == "__main__":
    main_()
