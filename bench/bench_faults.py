"""Exactly once under faults, at length: tests/test_kills.py and tests/test_fuzz.py, bigger.

    python bench/bench_faults.py --size tiny     # 100 messages, 5 kills, 200 mutants (CI)
    python bench/bench_faults.py --size small    # 400 messages, 20 kills, 1,000 mutants
    python bench/bench_faults.py --size full     # 1,000 messages, 50 kills, 2,000 mutants

A throwaway Dovecot and an SMTP sink on loopback. Kills: `touchlog poll --once` as a real
process, SIGKILLed at seeded random moments (by how much the ledger holds), then clean passes;
a census straight from Dovecot, the SQLite file and the sink prints messages lost and doubled,
touchpoints missing and doubled, notices missing and doubled (by Message-ID; a notice resent
under the same Message-ID after a kill is counted apart), and the seconds a pass after a kill
was refused by the lock. Fuzz: corpus mutants through Dovecot, one pass; prints how many ended
without an outcome. Every figure but the resends and the seconds must be 0.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.faults import FOLDERS, census, kill_at_random_moments, mixed_inbox  # noqa: E402
from tests.mutants import CORPUS, mutants  # noqa: E402
from tests.smtpsink import SmtpSink  # noqa: E402
from tests.world import (  # noqa: E402
    MAIN_USER,
    PASSWORD,
    PASSWORD_ENV,
    World,
    installed,
    new_account,
)
from tools.dovecot import Dovecot  # noqa: E402

SIZES = {"tiny": (100, 5, 200), "small": (400, 20, 1000), "full": (1000, 50, 2000)}
SEED = 20261201


def _world(server: Dovecot, folder: Path, sink: SmtpSink | None) -> World:
    world = installed(folder, new_account(server), smtp=sink)
    world.write_settings(mailbox={"batch_size": 50},
                         notify={"max_per_sender_per_hour": 100000} if sink else {})
    return world


def kills(server: Dovecot, folder: Path, messages: int, count: int) -> dict[str, float]:
    with SmtpSink() as sink:
        world = _world(server, folder, sink)
        mail, expected = mixed_inbox(messages, tag="b")
        world.imap.seed(mail)
        db = folder / "touchlog.db"
        start = time.perf_counter()
        log = kill_at_random_moments(lambda: world.spawn("poll", "--once"), db, messages,
                                     count, SEED)
        for _ in range(2):
            world.spawn("poll", "--once").communicate(timeout=600)
        figures: dict[str, float] = dict(census(world.imap, db, sink).figures(expected))
    figures.update(kills=log.kills, seconds_blocked=round(log.blocked_seconds, 2),
                   tracebacks=sum("Traceback" in out for out in log.outputs),
                   seconds=round(time.perf_counter() - start, 1))
    return figures


def fuzz(server: Dovecot, folder: Path, count: int) -> dict[str, float]:
    if not CORPUS.is_dir():
        return {"mutants": 0}
    world = _world(server, folder, None)
    world.imap.seed(mutants(count, SEED))
    start = time.perf_counter()
    out = world.spawn("poll", "--once").communicate(timeout=900)[0]
    held = {f: len(world.folder_contents(f)) for f in FOLDERS}
    return {"mutants": count, "without_outcome": held["INBOX"],
            "moved": held["Touchpoints/Logged"] + held["Touchpoints/Failed"],
            "errors": out.count("error:"), "tracebacks": out.count("Traceback"),
            "seconds": round(time.perf_counter() - start, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    args = parser.parse_args()
    messages, count, mutant_count = SIZES[args.size]
    os.environ[PASSWORD_ENV] = PASSWORD
    top = Path(tempfile.mkdtemp(prefix="touchlog-bench-faults-"))
    top.chmod(0o755)
    server = Dovecot(top / "dovecot", 0, {MAIN_USER: PASSWORD})
    try:
        server.start()
        for name in ("kills", "fuzz"):
            (top / name).mkdir()
        k = kills(server, top / "kills", messages, count)
        print(f"kills: {messages} messages, {k.pop('kills'):.0f} SIGKILLs, "
              f"{k.pop('seconds')} s: " + ", ".join(f"{n} {v:g}" for n, v in k.items()))
        f = fuzz(server, top / "fuzz", mutant_count)
        print("fuzz: " + ", ".join(f"{n} {v:g}" for n, v in f.items()))
        bad = [n for n, v in {**k, **f}.items()
               if v and n not in ("notices_resent_same_id", "seconds", "mutants", "moved")]
        print("ok: every figure that must be 0 is 0" if not bad else f"NOT OK: {bad}")
        return 1 if bad else 0
    finally:
        server.stop()
        shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
