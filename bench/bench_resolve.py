"""How account resolution scales with the directory: median time per message at two sizes.

    python bench/bench_resolve.py --size tiny    # seconds (CI)
    python bench/bench_resolve.py --size full    # 100,000 accounts, 1,000,000 users, 5,000,000
                                                 # touchpoints; several minutes

Builds each directory in a temporary SQLite file (one account per 10 users, 5 touchpoints per
user), resolves a mix of contact, domain and tie-break messages through SqlDirectory, and prints
the median per message, the large/small ratio (target < 2; < 0.1 ms at 1,000,000 users), the build
rate, a users.csv import rate and the peak memory.
"""

from __future__ import annotations

import argparse
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from poller.decide.resolve import Policy, resolve  # noqa: E402
from store.db import open_database  # noqa: E402
from store.directory.import_accounts import import_accounts  # noqa: E402
from store.directory.import_users import import_users  # noqa: E402
from store.directory.lookups import SqlDirectory  # noqa: E402
from store.models import Touchpoint  # noqa: E402

# size: (users in the small directory, users in the large one, users.csv rows to import)
SIZES = {"tiny": (2_000, 20_000, 5_000), "small": (10_000, 100_000, 100_000),
         "full": (10_000, 1_000_000, 1_000_000)}
MESSAGES = {"tiny": 400, "small": 2_000, "full": 3_000}
TEAM = 200
CHUNK = 50_000
NOW = datetime(2024, 6, 1, 12, 0)
FMT = "%Y-%m-%d %H:%M:%S"


def domain(account: int) -> str:
    # Every 20th pair of accounts shares a domain: the tie-break cases.
    pair = account // 2
    return f"shared{pair}.example" if pair % 10 == 0 else f"d{account}.example"


def build(path: Path, users: int, seed: int = 7) -> dict[str, float]:
    """A directory of `users` customer users; returns rows and seconds per table."""
    open_database(f"sqlite:///{path}").close()  # the schema, exactly as touchlog creates it
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-500000"):
        conn.execute(f"PRAGMA {pragma}")  # the build only: a crash here just means rebuild
    rng = random.Random(seed)
    accounts = max(users // 10, 4)
    timings: dict[str, float] = {}
    conn.execute("BEGIN")
    with _indexes_dropped(conn):
        _timed(timings, "accounts", lambda: _accounts(conn, accounts))
        _timed(timings, "team", lambda: _team(conn))
        _timed(timings, "users", lambda: _users(conn, users, accounts, rng))
        _timed(timings, "touchpoints", lambda: _touchpoints(conn, users * 5, accounts, rng))
        start = time.perf_counter()
    timings["indexes_s"] = time.perf_counter() - start
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    return timings


def _timed(timings: dict[str, float], name: str, fill: object) -> None:
    start = time.perf_counter()
    rows = fill()  # type: ignore[operator]
    timings[f"{name}_rows"] = rows
    timings[f"{name}_s"] = time.perf_counter() - start


class _indexes_dropped:  # noqa: N801 (used as a with-statement)
    """Bulk loads are fastest without secondary indexes; CREATE INDEX sorts once at the end."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.sql = [sql for (sql,) in conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")]

    def __enter__(self) -> None:
        for name in [n for (n,) in self.conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")]:
            self.conn.execute(f'DROP INDEX "{name}"')

    def __exit__(self, *exc: object) -> None:
        for sql in self.sql:
            self.conn.execute(sql)


def _accounts(conn: sqlite3.Connection, n: int) -> int:
    conn.executemany(
        "INSERT INTO account (account_id, name, parent_id, default_bcc, contact_matches_only)"
        " VALUES (?, ?, ?, ?, ?)",
        ((f"A{i:07d}", f"Account {i}", f"A{i - 1:07d}" if i % 20 == 1 else None,
          i % 50 == 0, i % 97 == 5) for i in range(n)))
    conn.executemany("INSERT OR IGNORE INTO accountdomain (account_id, domain) VALUES (?, ?)",
                     ((f"A{i:07d}", domain(i)) for i in range(n) if i % 3 != 0))
    return n


def _team(conn: sqlite3.Connection) -> int:
    conn.executemany("INSERT INTO teammember (id, email, name, role) VALUES (?, ?, ?, 'user')",
                     ((i, f"rep{i}@{_team_domain(i)}", f"Rep {i}") for i in range(1, TEAM + 1)))
    return TEAM


def _team_domain(member: int) -> str:
    return "ourco.com" if member % 2 else "partner.example"


def _users(conn: sqlite3.Connection, n: int, accounts: int, rng: random.Random) -> int:
    base = NOW - timedelta(days=400)
    for start in range(0, n, CHUNK):
        ids = range(start + 1, min(start + CHUNK, n) + 1)
        conn.executemany("INSERT INTO customeruser (id, email, email_lower, domain)"
                         " VALUES (?, ?, ?, ?)",
                         ((j, f"u{j}@{d}", f"u{j}@{d}", d)
                          for j in ids for d in (domain(j % accounts),)))
        links = [(j, f"A{j % accounts:07d}", (base + timedelta(minutes=j)).strftime(FMT))
                 for j in ids]
        # One user in ten is also a contact of the next account: the multi-account rules.
        links += [(j, f"A{(j + 1) % accounts:07d}",
                   None if j % 70 == 0 else (base + timedelta(minutes=rng.randrange(500_000)))
                   .strftime(FMT)) for j in ids if j % 10 == 0]
        conn.executemany("INSERT INTO association (user_id, account_id, last_activity)"
                         " VALUES (?, ?, ?)", links)
    return n


def _touchpoints(conn: sqlite3.Connection, n: int, accounts: int, rng: random.Random) -> int:
    columns, filler = _touchpoint_columns()
    sql = (f"INSERT INTO touchpoint ({', '.join(columns)})"
           f" VALUES ({', '.join('?' * len(columns))})")
    for start in range(0, n, CHUNK):
        rows = []
        for k in range(start, min(start + CHUNK, n)):
            creator = rng.randrange(1, TEAM + 1)
            when = (NOW - timedelta(seconds=rng.randrange(365 * 86400))).strftime(FMT)
            rows.append((f"A{rng.randrange(accounts):07d}", creator, _team_domain(creator),
                         when, when, f"bench-{k}", *filler))
        conn.executemany(sql, rows)
    return n


def _touchpoint_columns() -> tuple[list[str], list[object]]:
    """The columns the bench sets, then every other NOT NULL column with a plain value, so the
    bench keeps working when the model grows a column."""
    given = ["account_id", "creator_id", "creator_domain", "occurred_at", "created_at",
             "message_key"]
    columns, filler = list(given), []
    for f in Touchpoint._meta.sorted_fields:
        if f.column_name in given or f.null or f.primary_key:
            continue
        default = f.default() if callable(f.default) else f.default
        columns.append(f.column_name)
        filler.append(f.db_value(default) if default is not None else "bench")
    return columns, filler


def messages(users: int, count: int, seed: int = 11) -> Iterator[tuple[list[str], int, str]]:
    """(candidates, sender id, sender domain): contacts, unknown people, shared domains."""
    rng = random.Random(seed)
    accounts = max(users // 10, 4)
    for _ in range(count):
        sender = rng.randrange(1, TEAM + 1)
        kind = rng.random()
        if kind < 0.6:  # a known contact, one in ten on two accounts
            j = rng.randrange(1, users + 1)
            candidates = [f"u{j}@{domain(j % accounts)}"]
        elif kind < 0.8:  # a stranger at a customer's domain
            candidates = [f"new{rng.randrange(10**6)}@{domain(rng.randrange(accounts))}"]
        else:  # a stranger at a domain two accounts share: the tie-break
            pair = rng.randrange(0, accounts // 20 + 1) * 20
            candidates = [f"someone@shared{pair // 2}.example"]
        yield candidates, sender, _team_domain(sender)


def measure(path: Path, users: int, count: int) -> tuple[list[float], Counter[str]]:
    db = open_database(f"sqlite:///{path}", create=False)
    directory, policy = SqlDirectory(), Policy()
    times, outcomes = [], Counter()
    for n, (candidates, sender, sender_domain) in enumerate(messages(users, count + 100)):
        start = time.perf_counter()
        decision = resolve(candidates, sender, sender_domain, directory, policy, NOW)
        elapsed = time.perf_counter() - start
        if n >= 100:  # the first hundred warm the page cache
            times.append(elapsed)
            outcomes[decision.rule or decision.reason or "?"] += 1
    db.close()
    return times, outcomes


def bench_import(folder: Path, rows: int) -> tuple[float, float]:
    """Seconds to import a users.csv of `rows` rows into a directory of rows/10 accounts."""
    accounts = max(rows // 10, 4)
    accounts_csv, users_csv = folder / "accounts.csv", folder / "users.csv"
    with accounts_csv.open("w") as f:
        f.write("account_id,name\n")
        f.writelines(f"A{i:07d},Account {i}\n" for i in range(accounts))
    with users_csv.open("w") as f:
        f.write("email,account_id,last_activity\n")
        f.writelines(f"u{j}@{domain(j % accounts)},A{j % accounts:07d},2024-05-01T10:00:00Z\n"
                     for j in range(rows))
    db = open_database(f"sqlite:///{folder / 'import.db'}")
    import_accounts(accounts_csv, progress=lambda d, t: None)
    start = time.perf_counter()
    report = import_users(users_csv, progress=lambda d, t: None)
    seconds = time.perf_counter() - start
    db.close()
    assert report.added == rows
    return seconds, rows / seconds


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(size: str, folder: Path) -> dict[int, float]:
    small, large, import_rows = SIZES[size]
    medians = {}
    for users in (small, large):
        path = folder / f"dir-{users}.db"
        start = time.perf_counter()
        t = build(path, users)
        build_s = time.perf_counter() - start
        rows = sum(v for k, v in t.items() if k.endswith("_rows"))
        print(f"{users:>9,} users: built {int(rows):,} rows in {build_s:.1f} s "
              f"({rows / build_s:,.0f} rows/s; touchpoints {t['touchpoints_s']:.1f} s, "
              f"indexes {t['indexes_s']:.1f} s), {path.stat().st_size / 2**20:,.0f} MB")
        times, outcomes = measure(path, users, MESSAGES[size])
        medians[users] = statistics.median(times)
        p95 = statistics.quantiles(times, n=20)[-1]
        print(f"{'':>16} resolve: median {medians[users] * 1000:.3f} ms, p95 {p95 * 1000:.3f} ms"
              f" over {len(times):,} messages; {dict(sorted(outcomes.items()))}")
        path.unlink()
    ratio = medians[large] / medians[small]
    print(f"ratio {large:,} / {small:,} users: {ratio:.2f} (target < 2); "
          f"median at {large:,}: {medians[large] * 1000:.3f} ms (target < 0.1 ms)")
    seconds, rate = bench_import(folder, import_rows)
    print(f"import users.csv: {import_rows:,} rows in {seconds:.1f} s ({rate:,.0f} rows/s)")
    print(f"peak memory: {peak_mb():,.0f} MB")
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="tiny")
    parser.add_argument("--dir", help="where the temporary databases go (default: a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="touchlog-bench-") as folder:
        run(args.size, Path(folder))


if __name__ == "__main__":
    main()
