"""What the fault tests (tests/test_kills.py, tests/test_fuzz.py) and bench/bench_faults.py
share: a mixed inbox whose fate is known in advance, kills at seeded moments of a real
`touchlog poll --once`, and a census of what ended where, read straight from the IMAP server,
the SQLite file and the SMTP sink (never through touchlog's own code)."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from pathlib import Path

from tests.builders import make_mail

FOLDERS = ("INBOX", "Touchpoints/Logged", "Touchpoints/Failed")


@dataclass(frozen=True)
class Expected:
    """What must become of each test message: `logged`, `failed` (a notice due) or `skipped`."""

    fate: dict[str, str]  # Message-ID (without brackets) -> fate

    def ids(self, fate: str) -> set[str]:
        return {mid for mid, f in self.fate.items() if f == fate}


def mixed_inbox(n: int, tag: str = "k") -> tuple[list[bytes], Expected]:
    """n messages: 7 in 10 logged (contacts of ACME and ROAD), 2 in 10 failed no_account
    (from a team member: a notice is due), 1 in 10 an auto-reply (skipped)."""
    messages, fate = [], {}
    for i in range(n):
        mid = f"{tag}{i}@ourco.com"
        kind = i % 10
        if kind in (3, 7):
            raw, f = make_mail(to=f"x{i}@unknown{i}.example", subject=f"Lost {tag}{i}",
                               message_id=f"<{mid}>"), "failed"
        elif kind == 9:
            raw, f = make_mail(to="wile@acme.com", subject=f"Automatic reply: {tag}{i}",
                               message_id=f"<{mid}>",
                               headers={"Auto-Submitted": "auto-replied"}), "skipped"
        else:
            to = "wile@acme.com" if i % 2 else "beep@road.com"
            raw, f = make_mail(to=to, subject=f"Call notes {tag}{i}",
                               message_id=f"<{mid}>"), "logged"
        messages.append(raw)
        fate[mid] = f
    return messages, Expected(fate)


def message_id(raw: bytes) -> str:
    value = str(BytesHeaderParser().parsebytes(raw).get("Message-ID", "") or "")
    return value.strip().strip("<>")


def committed(db_path: Path) -> int:
    """Messages with an outcome in the ledger so far (0 before the tables exist)."""
    if not db_path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10) as con:
            return con.execute("SELECT count(*) FROM messagerecord").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def wait_for(condition: Callable[[], bool], timeout: float = 60.0,
             step: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


@dataclass
class KillLog:
    kills: int = 0
    outputs: list[str] = field(default_factory=list)
    blocked_seconds: float = 0.0  # time a pass after a kill spent refused by the lock


def kill_at_random_moments(spawn: Callable[[], subprocess.Popen[str]], db_path: Path,
                           total: int, kills: int, seed: int,
                           before_kill: Callable[[int], None] | None = None) -> KillLog:
    """`kills` runs of `poll --once`, each killed with SIGKILL once the ledger holds a seeded
    random number of messages (then a random few ms more, so kills land in commits, moves and
    notice sending alike); the last ones after everything is committed. `before_kill` sees the
    pid of each run about to be killed."""
    rng = random.Random(seed)
    targets = sorted(rng.sample(range(1, total), kills - 2)) + [total, total]
    log = KillLog()
    for target in targets:
        started = time.monotonic()
        proc = spawn()
        wait_for(lambda t=target, p=proc: committed(db_path) >= t or p.poll() is not None, 120)
        time.sleep(rng.uniform(0, 0.08))
        if proc.poll() is None:
            if before_kill is not None:
                before_kill(proc.pid)
            proc.send_signal(signal.SIGKILL)
            log.kills += 1
        output = proc.communicate(timeout=60)[0]
        log.outputs.append(output)
        if "another worker is polling" in output:
            log.blocked_seconds += time.monotonic() - started
    return log


@dataclass
class Census:
    """Where every message ended, and what was said about it."""

    where: dict[str, Counter[str]]  # folder -> Message-ID -> copies
    touchpoints: Counter[str]  # Message-ID -> touchpoints
    outcomes: dict[str, str]  # Message-ID -> outcome in the ledger
    notices: Counter[str]  # original Message-ID -> distinct notice Message-IDs
    notice_copies: int  # deliveries beyond the first of one notice Message-ID

    def figures(self, expected: Expected) -> dict[str, int]:
        everywhere: Counter[str] = Counter()
        for counts in self.where.values():
            everywhere.update(counts)
        due = expected.ids("failed")
        return {
            "lost": sum(1 for mid in expected.fate if everywhere[mid] == 0),
            "doubled": sum(1 for mid in expected.fate if everywhere[mid] > 1),
            "left_in_inbox": sum(self.where["INBOX"].values()),
            "touchpoints_missing": sum(1 for mid in expected.ids("logged")
                                       if self.touchpoints[mid] == 0),
            "touchpoints_doubled": sum(1 for n in self.touchpoints.values() if n > 1),
            "wrong_outcome": sum(1 for mid, f in expected.fate.items()
                                 if self.outcomes.get(mid) != f),
            "notices_missing": sum(1 for mid in due if self.notices[mid] == 0),
            "notices_doubled": sum(1 for mid in due if self.notices[mid] > 1),
            "notices_resent_same_id": self.notice_copies,
        }


def census_folders(imap) -> dict[str, Counter[str]]:
    """Folder -> Message-ID -> copies, as the IMAP server holds them."""
    return {folder: Counter(message_id(raw) for _, raw in imap.messages(folder).values())
            for folder in FOLDERS}


def census(imap, db_path: Path, sink) -> Census:
    where = census_folders(imap)
    with sqlite3.connect(db_path, timeout=10) as con:
        touchpoints = Counter(row[0] for row in con.execute(
            "SELECT message_id FROM touchpoint"))
        outcomes = dict(con.execute("SELECT message_id, outcome FROM messagerecord"))
    notices: dict[str, set[str]] = {}
    ids: Counter[str] = Counter()
    for received in (sink.messages if sink is not None else []):
        original = str(received.message["In-Reply-To"] or "").strip().strip("<>")
        own = str(received.message["Message-ID"])
        notices.setdefault(original, set()).add(own)
        ids[own] += 1
    return Census(where, touchpoints, outcomes,
                  Counter({mid: len(own) for mid, own in notices.items()}),
                  sum(n - 1 for n in ids.values()))
