"""What writing down a pass's messages in hand costs (store.ledger.in_hand, SPEC 20), without
IMAP: poller.passes.hand.Hand's take (committed at once, before a batch is fetched) and done (in
the batch's transaction) for batches of `--batch` UIDs, as a pass does them, in CPU and wall
microseconds a message.

    python bench/bench_in_hand.py                        # SQLite, 200 batches of 200
    python bench/bench_in_hand.py --size tiny            # 5 batches: checks it runs (CI)
    python bench/bench_in_hand.py --url postgresql://...  # an empty PostgreSQL database

The per-batch transaction holds nothing else here, so the figure is the bookkeeping alone.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def measure(url: str, batches: int, size: int) -> dict[str, float]:
    from core.settings import Settings
    from poller.passes.hand import Hand
    from store.db import open_database
    from store.models import database

    open_database(url)
    hand = Hand(Settings(), "bench@127.0.0.1:143/INBOX")
    hand.run, hand.suspects = 1, {}
    uids = [list(range(1 + n * size, 1 + (n + 1) * size)) for n in range(batches)]
    cpu, wall = time.process_time(), time.perf_counter()
    for batch in uids:
        hand.take(batch)
        with database.atomic():
            hand.done(batch)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    hand.let_go()
    messages = batches * size
    return {"cpu_us": cpu / messages * 1e6, "wall_us": wall / messages * 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=("tiny", "full"), default="full",
                        help="tiny: 5 batches, once (checks the bench runs, measures nothing)")
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--batch", type=int, default=200, help="UIDs a batch")
    parser.add_argument("--url", default="", help="a database URL (default: a fresh SQLite)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.size == "tiny":
        args.batches, args.repeat = 5, 1
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        best: dict[str, float] = {}
        for _ in range(args.repeat):
            got = measure(url, args.batches, args.batch)
            best = {k: min(v, best.get(k, v)) for k, v in got.items()}
    print(f"take+done, {args.batch} UIDs a batch: {best['cpu_us']:.1f} µs CPU, "
          f"{best['wall_us']:.1f} µs wall a message (best of {args.repeat})")


if __name__ == "__main__":
    main()
