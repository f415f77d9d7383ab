"""touchlog beside the lean stdlib floor on the same generated mailbox, in the same run.

    python bench/bench_peers.py --size tiny     # 100 and 300 messages, under a minute (CI)
    python bench/bench_peers.py --size small    # 2,000 and 5,000
    python bench/bench_peers.py --size medium   # 2,000 and 20,000 (the goal's size, ~7 minutes)
    python bench/bench_peers.py --size full     # 2,000, 20,000 and 50,000 (~15 minutes)

For each size: a throwaway Dovecot on loopback gets two identical inboxes of business mail
(bench/mailgen.py: copies, replies in threads, inline and attached forwards, notes, attachments,
auto-replies, a newsletter, unknown customers, an outside sender, second copies), then the peers
run one after the other on their own copy, each as its own process: the lean floor
(bench/lean_peer.py) and `touchlog poll --once`. Prints each one's messages per second (its pass,
from login to the last MOVE; touchlog's from its `runs` row), the ratio, touchlog's rate against
its rate at the first size (flat is 1.0), the peak RSS of each (the largest process), and, last,
the seconds from APPEND to the message being in the logged folder with `touchlog poll` waiting in
IMAP IDLE (SPEC 16).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from mailgen import AUTHSERV_ID, Mix  # noqa: E402

from poller.passes import workers as parallel  # noqa: E402
from tools.dovecot import Dovecot  # noqa: E402

SIZES = {"tiny": (100, 300), "small": (2_000, 5_000), "medium": (2_000, 20_000),
         "full": (2_000, 20_000, 50_000)}
# The floor runs up to here: its rate at 20,000 is the goal's yardstick, and at 50,000 it would
# add ten minutes for a figure no goal uses (touchlog's own 50,000 rate is against its 2,000).
FLOOR_MAX = 20_000
PASSWORD = "bench-pw"
PY = sys.executable
TOUCHLOG = [PY, str(ROOT / "cli.py")]


def settings_text(port: int, user: str, db: Path, **schedule: object) -> str:
    lines = ["[mailbox]", 'host = "127.0.0.1"', f"port = {port}", 'tls = "none"',
             f'username = "{user}"', 'password_env = "BENCH_IMAP_PASSWORD"',
             "[database]", f'url = "sqlite:///{db}"',
             "[touchpoints]", 'mailbox_address = "touchpoints@ourco.com"',
             'internal_domains = ["ourco.com"]', "[notify]", "enabled = false",
             "[trust]", f'authserv_ids = ["{AUTHSERV_ID}"]', "[schedule]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in schedule.items()]
    return "\n".join(lines) + "\n"


def timed(command: list[str], env: dict[str, str]) -> tuple[str, float, float]:
    """stdout, wall seconds, peak RSS in MB of the largest process of the command."""
    with tempfile.NamedTemporaryFile("r") as rss:
        start = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss.name, *command], env=env,
                              capture_output=True, text=True)
        wall = time.perf_counter() - start
        if done.returncode:
            raise SystemExit(f"{command[1]} failed ({done.returncode}): {done.stderr[-2000:]}")
        return done.stdout, wall, int(rss.read().split()[-1]) / 1024


def lean(server: Dovecot, user: str, folder: Path, users_csv: Path) -> dict[str, float]:
    out, wall, rss = timed([PY, str(ROOT / "bench" / "lean_peer.py"), "127.0.0.1",
                            str(server.port), user, PASSWORD, str(folder / "lean.db"),
                            str(users_csv)], dict(os.environ))
    count, rate, _ = out.split()
    return {"rate": float(rate), "wall": wall, "rss": rss}


def touchlog(server: Dovecot, user: str, folder: Path, paths: dict[str, Path],
             count: int) -> dict[str, float]:
    config = folder / "settings.toml"
    config.write_text(settings_text(server.port, user, folder / "touchlog.db"))
    env = {**os.environ, "BENCH_IMAP_PASSWORD": PASSWORD}
    for kind in ("team", "accounts", "users"):
        subprocess.run([*TOUCHLOG, "--config", str(config), "import", kind, str(paths[kind])],
                       env=env, check=True, capture_output=True)
    out, wall, rss = timed([*TOUCHLOG, "--config", str(config), "poll", "--once"], env)
    return {"rate": count / _pass_seconds(folder / "touchlog.db"), "wall": wall, "rss": rss,
            "summary": out.strip()}


def _pass_seconds(db: Path) -> float:
    """The last pass's own time, from its `runs` row (microseconds kept in the database)."""
    with sqlite3.connect(db) as conn:
        start, end = conn.execute("SELECT started_at, finished_at FROM run "
                                  "ORDER BY id DESC LIMIT 1").fetchone()
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def one_size(count: int, folder: Path, mix_seed: int = 7) -> tuple[dict | None, dict]:
    server = Dovecot(folder / "dovecot", users={"lean@ourco.com": PASSWORD,
                                                "touchlog@ourco.com": PASSWORD})
    server.start()
    try:
        mix = Mix(seed=mix_seed)
        mail = [mix.message(n) for n in range(count)]
        paths = mix.write_directory(folder)
        for user in ("lean@ourco.com", "touchlog@ourco.com"):
            if user.startswith("touchlog") or count <= FLOOR_MAX:
                server.seed(user, mail)
        del mail
        floor = (lean(server, "lean@ourco.com", folder, paths["users"]) if count <= FLOOR_MAX
                 else None)
        ours = touchlog(server, "touchlog@ourco.com", folder, paths, count)
    finally:
        server.stop()
    return floor, ours


def idle_delivery(folder: Path) -> float | None:
    """Seconds from APPEND to the logged folder, `touchlog poll` waiting in IDLE."""
    from idle_probe import delivery_seconds

    return delivery_seconds(folder, TOUCHLOG, settings_text, PASSWORD)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZES, default="small")
    parser.add_argument("--dir", help="where the mailboxes go (default: a temp dir)")
    args = parser.parse_args()
    size = args.size
    print(f"--size {size}: {', '.join(f'{n:,}' for n in SIZES[size])} messages "
          f"(bench/mailgen.py mix), {os.cpu_count()} cores, {parallel.worker_count()} workers")
    print("| N | lean floor | touchlog | touchlog / floor | touchlog vs first N "
          "| peak RSS floor | peak RSS touchlog |")
    print("|---|---|---|---|---|---|---|")
    first = None
    summaries = []
    for count in SIZES[size]:
        with tempfile.TemporaryDirectory(prefix="touchlog-peers-", dir=args.dir) as tmp:
            floor, ours = one_size(count, Path(tmp))
        first = first or ours["rate"]
        summaries.append(f"{count:,}: {ours['summary']}")
        rate, ratio, rss = (("—", "—", "—") if floor is None else
                            (f"{floor['rate']:,.0f} msg/s", f"{ours['rate'] / floor['rate']:.2f}",
                             f"{floor['rss']:.0f} MB"))
        print(f"| {count:,} | {rate} | {ours['rate']:,.0f} msg/s | {ratio} | "
              f"{ours['rate'] / first:.2f} | {rss} | {ours['rss']:.0f} MB |", flush=True)
    for line in summaries:
        print(line)
    with tempfile.TemporaryDirectory(prefix="touchlog-idle-", dir=args.dir) as tmp:
        seconds = idle_delivery(Path(tmp))
    print("IDLE delivery (APPEND → logged folder, `touchlog poll`, schedule.idle = true): "
          + (f"{seconds:.2f} s" if seconds is not None else "not measured"))


if __name__ == "__main__":
    main()
