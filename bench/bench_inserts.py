"""What each index of `touchpoint` and `messagerecord` costs a logged message (issue 22).

    python bench/bench_inserts.py --size tiny    # seconds (CI): 400 messages
    python bench/bench_inserts.py                # 20,000 messages (a few minutes)
    python bench/bench_inserts.py --mix business # 37% replies (parent_id, thread_id set)
    python bench/bench_inserts.py --instructions # instructions, counted by callgrind (~10 min)

One SQLite file per variant, each made by touchlog's own schema (store.db.open_database: WAL,
foreign keys on) with 400 accounts and 20 team members: every index; the two tables with the
indexes of the schema before issue 22 instead (tests/data/schema_v2.sqlite.sql); with none;
with each of today's dropped in turn. Every variant logs the same N messages as a pass
logs them: one transaction per batch of 200, a savepoint per message, the touchpoint inserted
by store.timeline.touchpoints.create_touchpoint and its ledger row by
store.ledger.records.save_record. The variants take turns batch by batch (in a shuffled order),
so the shared machine's ups and downs fall on all of them alike. It prints the CPU µs an insert
of each table costs (and a message in all, savepoints and commit too), the median batch.

CPU time still moves with the machine's load by ±10 µs, about what one index costs, so
`--instructions` counts instead (valgrind's callgrind; the load moves none of it): each variant
logs 19,000 messages natively, then logs 1,000 more under callgrind in its own process; the
instructions a message costs are those of that process less those of one that logs none.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from peewee import Database  # noqa: E402

from store.db import journal_savepoints_in_memory, open_database  # noqa: E402
from store.ledger.models import MessageRecord  # noqa: E402
from store.ledger.records import save_record  # noqa: E402
from store.models import Account, TeamMember, Touchpoint, database  # noqa: E402
from store.timeline.touchpoints import NewTouchpoint, create_touchpoint  # noqa: E402

SIZES = {"tiny": 400, "default": 20_000}  # messages
REPLIES = {"notes": 0.0, "business": 0.37}  # the share of replies in a thread
ACCOUNTS, TEAM, BATCH = 400, 20, 200
COUNTED, WARM = 1_000, 10  # messages logged under callgrind (--instructions), after a warm-up
TABLES = ("touchpoint", "messagerecord")
ALL, NONE = "(all indexes)", "(no secondary index)"
MAIN = "(main's, before issue 22)"  # the indexes of the schema before, to compare in one run
MAIN_SCHEMA = Path(__file__).resolve().parent.parent / "tests" / "data" / "schema_v2.sqlite.sql"
START = datetime(2026, 1, 5, 8, 0)
WORDS = ("pricing renewal meeting call quote contract order invoice demo trial follow-up "
         "discount seats onboarding support question thanks agreed next week").split()


def messages(start: int, count: int, replies: float) -> list[tuple[NewTouchpoint, dict]]:
    """Messages start.. of the same sequence in every run and process: a touchpoint and the
    ledger row it is logged with. A reply names an earlier message in References, and is
    logged on its account, so the pass's own lookup (thread_parent) threads it."""
    return [_message(n, replies) for n in range(start, start + count)]


def _basics(n: int) -> tuple[int, int, str]:
    """Message n's account, sender and Message-ID."""
    rng = random.Random(n)
    account, member = rng.randrange(ACCOUNTS), 1 + rng.randrange(TEAM)
    return account, member, f"{rng.getrandbits(64):016x}.{n}@mail.ourco.example"


def _answers(n: int, replies: float) -> int | None:
    """The earlier message n replies to, if it is a reply."""
    rng = random.Random(-n - 1)
    return rng.randrange(n) if n and rng.random() < replies else None


def _message(n: int, replies: float) -> tuple[NewTouchpoint, dict]:
    account, member, mid = _basics(n)
    rng = random.Random(-n - 1)
    answers = _answers(n, replies)
    references: tuple[str, ...] = ()
    if answers is not None:
        references = (_basics(answers)[2],)
        first = answers  # the thread's account: its first message's
        while (earlier := _answers(first, replies)) is not None:
            first = earlier
        account = _basics(first)[0]
    subject = f"{' '.join(rng.choices(WORDS, k=4))} acc{account}"
    trace = {"rule": "subject", "steps": [["contact", "no outside address"],
                                          ["subject", f"acc{account}.example"]]}
    tp = NewTouchpoint(
        account_id=f"ACC{account}", flow="Default", reasons=("Other",),
        occurred_at=START + timedelta(seconds=37 * n + rng.randrange(30)), subject=subject,
        content=" ".join(rng.choices(WORDS, k=rng.randrange(8, 40))),
        creator_id=member, creator_email=f"seller{member}@ourco.example",
        creator_domain="ourco.example",
        participants=({"email": f"seller{member}@ourco.example", "name": f"Seller {member}",
                       "role": "internal"},),
        attachments=(), message_key=mid, message_id=mid, mailbox="INBOX", uid=n + 1,
        scenario="note" if answers is None else "reply", rule="subject", trace=trace,
        references=references, parent_id=None,
        written_message_id=f"<{mid}>")
    record = {"key": mid, "message_id": f"<{mid}>", "outcome": "logged", "reason": "subject",
              "trace": trace, "sender": tp.creator_email, "subject": subject,
              "date": tp.occurred_at, "mailbox": "INBOX", "uid": n + 1}
    return tp, record


def indexes(db: object) -> dict[str, list[str]]:
    """The secondary indexes of each table, as the schema made them."""
    sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql NOT NULL"
    return {t: [name for (name,) in db.execute_sql(sql, (t,))] for t in TABLES}  # type: ignore


_FILES = itertools.count(1)


def fresh(folder: str, changes: list[str]) -> Database:
    """A database of touchlog's schema and directory, its indexes changed by these statements."""
    db = open_database(f"sqlite:///{folder}/{next(_FILES)}.db")
    Account.insert_many([{"account_id": f"ACC{a}", "name": f"Account {a}"}
                         for a in range(ACCOUNTS)]).execute()
    TeamMember.insert_many([{"email": f"seller{m}@ourco.example"}
                            for m in range(1, TEAM + 1)]).execute()
    for statement in changes:
        db.execute_sql(statement)
    return db


def batch(db: Database, rows: list[tuple[NewTouchpoint, dict]]) -> dict[str, float]:
    """Log one batch into `db`: CPU µs per insert of each table, and per message in all (the
    savepoints and the commit too)."""
    database.initialize(db)
    spent: dict[str, int] = defaultdict(int)
    clock = time.thread_time_ns  # CPU time: the machine is shared
    begun = clock()
    with journal_savepoints_in_memory(), database.atomic():  # as a pass commits a batch
        for tp, record in rows:
            with database.atomic():
                t0 = clock()
                made = create_touchpoint(tp)
                t1 = clock()
                save_record(None, touchpoint=made, **record)
                spent["touchpoint"] += t1 - t0
                spent["messagerecord"] += clock() - t1
    spent["message"] = clock() - begun
    return {k: v / 1000 / len(rows) for k, v in spent.items()}


def variants(folder: str) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The indexes of each table, and the variants: the statements that change the schema's
    indexes into each one's."""
    found = indexes(open_database(f"sqlite:///{folder}/schema.db"))
    drop_all = [f'DROP INDEX "{n}"' for t in TABLES for n in found[t]]
    main = [line.rstrip(";") for line in MAIN_SCHEMA.read_text().splitlines()
            if re.match(r'CREATE (UNIQUE )?INDEX .* ON "(touchpoint|messagerecord)"', line)]
    plan = {ALL: [], MAIN: drop_all + main, NONE: drop_all}
    plan.update({name: [f'DROP INDEX "{name}"'] for t in TABLES for name in found[t]})
    return found, plan


def log(db: Database, rows: list[tuple[NewTouchpoint, dict]]) -> None:
    for first in range(0, len(rows), BATCH):
        batch(db, rows[first:first + BATCH])


def measure(rows: list) -> tuple[dict[str, list[str]], dict[str, dict[str, float]]]:
    """Every variant logs the same batches, interleaved batch by batch in a shuffled order, so
    the machine's ups and downs fall on all of them alike; the median batch of each."""
    with tempfile.TemporaryDirectory() as folder:
        found, plan = variants(folder)
        dbs = {name: fresh(folder, changes) for name, changes in plan.items()}
        log(fresh(folder, []), rows[:BATCH])  # warm up: imports, compiled statements
        seen: dict[str, list[dict[str, float]]] = defaultdict(list)
        order, shuffle = list(plan), random.Random(1).shuffle
        for first in range(0, len(rows), BATCH):
            shuffle(order)
            gc.collect()
            for name in order:
                seen[name].append(batch(dbs[name], rows[first:first + BATCH]))
        for db in dbs.values():
            database.initialize(db)
            assert Touchpoint.select().count() == MessageRecord.select().count() == len(rows)
            db.close()
    medians = {name: {k: statistics.median(b[k] for b in runs) for k in runs[0]}
               for name, runs in seen.items()}
    return found, medians


def count(rows: int, mix: str) -> tuple[dict[str, list[str]], dict[str, dict[str, float]]]:
    """Instructions a message costs each variant, its last COUNTED messages under callgrind."""
    before = rows - COUNTED - WARM
    with tempfile.TemporaryDirectory() as folder:
        found, plan = variants(folder)
        paths = {}
        for name, changes in plan.items():
            db = fresh(folder, changes)
            log(db, messages(0, before, REPLIES[mix]))
            paths[name] = db.database
            db.close()
        shutil.copy(paths[ALL], f"{folder}/none-counted.db")
        setup = _callgrind(f"{folder}/none-counted.db", mix, before, 0)
        per = {name: (_callgrind(path, mix, before, COUNTED) - setup) / COUNTED
               for name, path in paths.items()}
    return found, {name: {"message": n} for name, n in per.items()}


def _callgrind(path: str, mix: str, before: int, counted: int) -> int:
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
               __file__, "--child", path, "--mix", mix, "--rows", str(before + WARM + counted),
               "--skip", str(before)]
    env = {**os.environ, "PYTHONHASHSEED": "0"}  # the same dict and set orders in every run
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    return int(re.search(r"Collected : (\d+)", done.stderr).group(1))  # type: ignore[union-attr]


def child(path: str, mix: str, rows: int, skip: int) -> None:
    """Log messages skip.. into the database at `path` (the first WARM as a warm-up)."""
    db = open_database(f"sqlite:///{path}")
    wanted = messages(skip, rows - skip, REPLIES[mix])
    log(db, wanted[:WARM])
    log(db, wanted[WARM:])
    db.close()


def report(found: dict[str, list[str]], medians: dict[str, dict[str, float]]) -> Iterator[str]:
    """A line a variant: its figures, and what dropping the index saves an insert of its table
    (a message, for the rows of main's indexes and of none, and for instruction counts)."""
    base, columns = medians[ALL], list(medians[ALL])
    yield f"{'dropped':<30}" + "".join(f"{c:>15}" for c in columns) + f"{'saves':>12}"
    for name in (ALL, MAIN, NONE, *found["touchpoint"], *found["messagerecord"]):
        m = medians[name]
        table = "messagerecord" if name in found["messagerecord"] else "touchpoint"
        if name in (MAIN, NONE) or table not in m:
            table = "message"
        saves = "" if name == ALL else f"{base[table] - m[table]:.1f}"
        yield f"{name:<30}" + "".join(f"{m[c]:>15.1f}" for c in columns) + f"{saves:>12}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=SIZES, default="default")
    parser.add_argument("--mix", choices=REPLIES, default="notes")
    parser.add_argument("--rows", type=int, help="messages a run logs (default: by --size)")
    parser.add_argument("--instructions", action="store_true",
                        help="count instructions under callgrind instead of CPU time")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # a database to log into (callgrind)
    parser.add_argument("--skip", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    rows = args.rows or SIZES[args.size]
    if args.child:
        return child(args.child, args.mix, rows, args.skip)
    what = "instructions a message" if args.instructions else "CPU µs an insert, the median batch"
    print(f"{rows:,} messages ({args.mix}): {what}; load {os.getloadavg()[0]:.2f}")
    found, figures = (count(rows, args.mix) if args.instructions
                      else measure(messages(0, rows, REPLIES[args.mix])))
    for line in report(found, figures):
        print(line)
    print(f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
