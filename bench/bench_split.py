"""A message's cost in each of a pass's two places, without IMAP: what a worker does
(poller.passes.workers.read_ahead: parse, filters, trust, who takes part), the hand-over (pickling
the result there, unpickling it in the pass) and what the pass's own process does (decide's
steps that read the ledger and the directory, then commit), per mix, in CPU microseconds.

    python bench/bench_split.py --count 2000                 # every mix
    python bench/bench_split.py --mix business --count 500 --sql   # and the statements run

The pass's process must cost well under a worker's: on two cores it is the one serial part.
"""

from __future__ import annotations

import argparse
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_peers import TOUCHLOG, settings_text  # noqa: E402
from mailgen import MIXES, Mix  # noqa: E402


def split(mix: str, count: int, folder: Path, sql: bool,
          profile: str = "", stop: str = "") -> dict[str, float]:
    from core.settings import load_settings
    from poller.decide.pipeline import decide
    from poller.decide.reading import Context, Source
    from poller.passes import workers
    from poller.passes.commit import commit
    from poller.understand.early import Knowledge
    from store.db import journal_savepoints_in_memory, open_database
    from store.models import database

    gen = Mix(seed=7, profile=MIXES[mix])
    mail = [gen.message(n) for n in range(count)]
    paths = gen.write_directory(folder)
    config = folder / "settings.toml"
    config.write_text(settings_text(143, "split@ourco.com", folder / "split.db",
                                    require=MIXES[mix].trust))
    for kind in ("team", "accounts", "users"):
        subprocess.run([*TOUCHLOG, "--config", str(config), "import", kind, str(paths[kind])],
                       check=True, capture_output=True)
    settings = load_settings(config)
    open_database(settings.database_url())
    ctx = Context(settings, one_pass=True)
    workers._known = Knowledge(ctx.book, settings.trust)
    if stop == "setup":
        return {}
    if stop == "floor":  # the lean floor's own work on the same mail (bench/lean_peer.py)
        import sqlite3

        import lean_peer

        db = sqlite3.connect(folder / "lean.db")
        lean_peer.setup(db, str(paths["users"]))
        for raw in mail:
            lean_peer.handle(db, raw)
        db.commit()
        return {}
    t0 = time.process_time()
    if profile == "worker":
        import cProfile

        profiler = cProfile.Profile()
        profiler.runcall(lambda: [workers.read_ahead(raw) for raw in mail])
        profiler.dump_stats(f"/tmp/split-{mix}-worker.prof")
    parsed = [workers.read_ahead(raw) for raw in mail]
    t1 = time.process_time()
    wire = [pickle.dumps(p, pickle.HIGHEST_PROTOCOL) for p in parsed]
    t2 = time.process_time()
    if stop == "worker":  # what a worker does: read, learn ahead, pickle for the pass
        return {}
    parsed = [pickle.loads(w) for w in wire]
    t3 = time.process_time()
    if stop == "unpickle":  # and the pass's unpickling of what the workers handed over
        return {}
    statements: list[str] = []
    if sql:
        database.connection().set_trace_callback(statements.append)
    def the_pass() -> None:
        # Its savepoints journalled in memory, one a message, handed to commit: as
        # poller.passes.poll does.
        with journal_savepoints_in_memory():
            for start in range(0, count, 200):
                with database.atomic():
                    for uid in range(start, min(count, start + 200)):
                        with database.savepoint() as savepoint:
                            commit(decide(mail[uid], ctx, Source("INBOX", uid + 1),
                                          parsed[uid]), savepoint)

    if profile == "main":
        import cProfile

        profiler = cProfile.Profile()
        profiler.runcall(the_pass)
        profiler.dump_stats(f"/tmp/split-{mix}-main.prof")
    else:
        the_pass()
    t4 = time.process_time()
    if sql:
        for text in statements[-40:]:
            print("   ", text[:160])
        print(f"    {len(statements) / count:.1f} statements a message")
    return {"worker": (t1 - t0), "pickle": t2 - t1, "unpickle": t3 - t2, "pass": t4 - t3,
            "bytes": sum(map(len, wire)) / count}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mix", action="append", choices=MIXES)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--size", choices=("tiny", "small"),
                        help="tiny: 50 messages a mix (make bench-tiny); small: 1,000")
    parser.add_argument("--sql", action="store_true", help="print the last statements run")
    parser.add_argument("--profile", choices=("main", "worker"),
                        help="cProfile that side into /tmp/split-MIX-SIDE.prof")
    parser.add_argument("--stop", choices=("setup", "worker", "unpickle", "floor"),
                        help="stop there (instruction counts: run under callgrind at each "
                             "stop and at the end, and subtract)")
    parser.add_argument("--row", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.size:
        args.count = 50 if args.size == "tiny" else 1000
    if not args.row:
        print("| mix | worker µs | pickle µs | unpickle µs (pass) | pass µs | pass + unpickle "
          "/ worker | handed over |")
        print("|---|---|---|---|---|---|---|", flush=True)
    for mix in args.mix or list(MIXES):
        with tempfile.TemporaryDirectory(prefix="touchlog-split-") as tmp:
            # Each mix in its own process: a fresh database, caches and modules.
            if len(args.mix or MIXES) > 1:
                subprocess.run([sys.executable, __file__, "--mix", mix, "--count",
                                str(args.count), "--row", *(["--sql"] if args.sql else []),
                                *(["--profile", args.profile] if args.profile else [])], check=True)
                continue
            f = split(mix, args.count, Path(tmp), args.sql, args.profile or "", args.stop or "")
            if not f:
                return
        us = {k: v * 1e6 / args.count for k, v in f.items() if k != "bytes"}
        print(f"| {mix} | {us['worker']:.0f} | {us['pickle']:.0f} | {us['unpickle']:.0f} | "
              f"{us['pass']:.0f} | {(us['pass'] + us['unpickle']) / us['worker']:.2f} | "
              f"{f['bytes'] / 1024:.1f} KB |", flush=True)


if __name__ == "__main__":
    main()
