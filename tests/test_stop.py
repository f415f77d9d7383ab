"""`poll --once` stopped by SIGTERM or SIGINT stops like the service (SPEC 17, issue 9)."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from tests.builders import make_mail


def mixed_mail(n: int, tag: str = "m") -> bytes:
    """Every fifth message fails (no account), the rest are logged on ACME."""
    to = "nobody@unknown-corp.com" if n % 5 == 0 else "wile@acme.com"
    return make_mail(to=to, subject=f"Note {tag}{n}", message_id=f"<{tag}{n}@ourco.com>")


def records(world) -> int:
    """Messages committed so far, read straight from the SQLite file."""
    path = Path(world.folder) / "touchlog.db"
    if not path.exists():
        return 0
    with sqlite3.connect(path, timeout=10) as con:
        try:
            return con.execute("SELECT count(*) FROM messagerecord").fetchone()[0]
        except sqlite3.OperationalError:  # tables not created yet
            return 0


def wait_for(condition, timeout: float = 30.0, step: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(step)


@pytest.mark.parametrize("stop, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)],
                         ids=["sigterm", "sigint"])
def test_poll_once_stops_after_the_message_in_hand(world, stop, status):
    world.imap.seed([mixed_mail(n) for n in range(400)])
    proc = world.spawn("poll", "--once")
    wait_for(lambda: records(world) >= 5)
    proc.send_signal(stop)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == status, output
    assert "Traceback" not in output
    assert "stopped on request" in output and "left in the inbox for the next pass" in output
    # What was committed was moved; the rest waits in the inbox, untouched.
    moved = (len(world.folder_contents("Touchpoints/Logged"))
             + len(world.folder_contents("Touchpoints/Failed")))
    assert moved == records(world) and 0 < moved < 400
    assert len(world.folder_contents("INBOX")) == 400 - moved
    [run] = _runs(world)
    assert run["status"] == "stopped"
    # The lock was released: the next pass does the rest, nothing twice.
    assert "another worker" not in world.poll()
    assert world.folder_contents("INBOX") == {}
    assert len(world.touchpoints()) == 320
    assert len(world.folder_contents("Touchpoints/Failed")) == 80


def _runs(world) -> list[dict]:
    return json.loads(world.touchlog("runs", "--format", "json").output)


def test_a_pass_read_by_workers_stops_with_every_committed_message_moved(world):
    """Over PARALLEL_MIN messages the pass moves its sets on a second session (poller.passes.
    mover): stopped after the first set was handed over, it still moves exactly what it
    committed, the set in flight and the rest, before it lets go of the lock."""
    from poller.passes.poll import MOVE_EVERY
    from poller.passes.workers import PARALLEL_MIN

    total = max(PARALLEL_MIN, MOVE_EVERY) + 300
    world.imap.seed([mixed_mail(n, tag="w") for n in range(total)])
    proc = world.spawn("poll", "--once")
    wait_for(lambda: records(world) >= MOVE_EVERY + 20, timeout=120)
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 143, output
    assert "stopped on request" in output and "Traceback" not in output
    moved = (len(world.folder_contents("Touchpoints/Logged"))
             + len(world.folder_contents("Touchpoints/Failed")))
    assert moved == records(world) and MOVE_EVERY < moved < total
    assert len(world.folder_contents("INBOX")) == total - moved
    assert "recovered" not in world.poll()
    assert world.folder_contents("INBOX") == {}
    assert len(world.touchpoints()) == sum(1 for n in range(total) if n % 5)
