"""touchlog beside the lean stdlib floor on every generated mix, in the same run.

    python bench/bench_peers.py --size tiny     # 100 and 300 messages, one run (CI)
    python bench/bench_peers.py --size small    # 2,000 and 5,000
    python bench/bench_peers.py --size medium   # 2,000 and 20,000 (the goal's size)
    python bench/bench_peers.py --size full     # 2,000, 20,000 and 50,000 (touchlog alone)
    python bench/bench_peers.py --mix business --mix notes --runs 3

For each mix of bench/mixes.py (business, notes, attachments, threads, today) and each size, a
throwaway Dovecot on loopback gets two identical inboxes (bench/mailgen.py), then the peers run
one after the other on their own copy, each as its own process: the lean floor
(bench/lean_peer.py: imaplib + email policy.default + sqlite3 + batch MOVE) and
`touchlog poll --once`. `--runs` rounds (three unless tiny) go over every mix and size in turn,
the peers' order swapped each round, so a busy minute falls on both; the table shows each
figure's median. Printed per mix and size: each peer's messages per second (its pass, from login
to the last MOVE; touchlog's from its `runs` row), the ratio touchlog / floor, touchlog against
its own rate at the first size (flat is 1.0), peak RSS of the floor, of touchlog's main process
and of its largest worker, and the CPU milliseconds a message costs touchlog's main process and
its workers. Last, the seconds from APPEND to the logged folder with `touchlog poll` in IDLE.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from mailgen import AUTHSERV_ID, MIXES, Mix  # noqa: E402
from peer_run import floor_run, touchlog_run  # noqa: E402

from poller.passes import workers as parallel  # noqa: E402
from tools.dovecot import Dovecot  # noqa: E402

SIZES = {"tiny": (100, 300), "small": (2_000, 5_000), "medium": (2_000, 20_000),
         "full": (2_000, 20_000, 50_000)}
# The floor runs up to here: its rate at 20,000 is the goal's yardstick; at 50,000 it would
# add many minutes for a figure no goal uses (touchlog's own 50,000 rate is against its 2,000).
FLOOR_MAX = 20_000
PASSWORD = "bench-pw"
PY = sys.executable
TOUCHLOG = [PY, str(ROOT / "cli.py")]
USERS = ("lean@ourco.com", "touchlog@ourco.com")


def settings_text(port: int, user: str, db: Path, require: str = "aligned",
                  **schedule: object) -> str:
    lines = ["[mailbox]", 'host = "127.0.0.1"', f"port = {port}", 'tls = "none"',
             f'username = "{user}"', 'password_env = "BENCH_IMAP_PASSWORD"',
             "[database]", f'url = "sqlite:///{db}"',
             "[touchpoints]", 'mailbox_address = "touchpoints@ourco.com"',
             'internal_domains = ["ourco.com"]', "[notify]", "enabled = false",
             "[trust]", f'authserv_ids = ["{AUTHSERV_ID}"]', f'require = "{require}"',
             "[schedule]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in schedule.items()]
    return "\n".join(lines) + "\n"


def generate(mix: str, count: int, folder: Path) -> Path:
    """The mix's first `count` messages as files, once for every round (Maildir's LF endings)."""
    out = folder / f"mail-{mix}-{count}"
    out.mkdir()
    gen = Mix(seed=7, profile=MIXES[mix])
    for n in range(count):
        (out / f"{n:07d}").write_bytes(gen.message(n).replace(b"\r\n", b"\n"))
    gen.write_directory(out)
    return out


def seed(server: Dovecot, user: str, mail: Path) -> None:
    """Copies the files into the user's INBOX (Dovecot numbers them in file-name order)."""
    cur = server.maildir(user) / "cur"
    for path in sorted(mail.glob("[0-9]*")):
        data = path.read_bytes()
        size = len(data)
        shutil.copyfile(path, cur / f"1.M{path.name}P1.bench,S={size},W={size + data.count(10)}:2,")
    server._chown_mail(server.maildir(user).parent)


def one(mix: str, count: int, mail: Path, folder: Path, floor_first: bool) -> dict:
    """One round of one mix at one size: both peers on a fresh Dovecot."""
    server = Dovecot(folder / "dovecot", users={u: PASSWORD for u in USERS})
    server.start()
    try:
        with_floor = count <= FLOOR_MAX
        for user in USERS if with_floor else USERS[1:]:
            seed(server, user, mail)
        config = folder / "settings.toml"
        config.write_text(settings_text(server.port, USERS[1], folder / "touchlog.db",
                                        require=MIXES[mix].trust))
        peers = {"floor": lambda: floor_run(server.port, USERS[0], PASSWORD, folder, mail),
                 "touchlog": lambda: touchlog_run(TOUCHLOG, config, PASSWORD, folder, mail,
                                                  count)}
        order = ["floor", "touchlog"] if floor_first else ["touchlog", "floor"]
        return {peer: peers[peer]() for peer in order if with_floor or peer == "touchlog"}
    finally:
        server.stop()


def median(rows: list[dict], peer: str, key: str) -> float | None:
    values = [r[peer][key] for r in rows if peer in r]
    return statistics.median(values) if values else None


def table(results: dict, sizes: tuple[int, ...]) -> list[str]:
    lines = ["| mix | N | lean floor | touchlog | touchlog / floor | touchlog vs first N | "
             "RSS floor | RSS touchlog main | RSS worker | CPU ms/msg main | CPU ms/msg workers |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for mix in dict.fromkeys(m for m, _ in results):
        first = median(results[mix, sizes[0]], "touchlog", "rate") or 1.0
        for count in sizes:
            rows = results[mix, count]
            ratios = [r["touchlog"]["rate"] / r["floor"]["rate"] for r in rows if "floor" in r]
            cells = [mix, f"{count:,}", _rate(median(rows, "floor", "rate")),
                     _rate(median(rows, "touchlog", "rate")),
                     f"{statistics.median(ratios):.2f}" if ratios else "—",
                     f"{(median(rows, 'touchlog', 'rate') or 0) / first:.2f}",
                     _mb(median(rows, "floor", "rss")), _mb(median(rows, "touchlog", "rss")),
                     _mb(median(rows, "touchlog", "rss_workers")),
                     f"{median(rows, 'touchlog', 'cpu_main'):.2f}",
                     f"{median(rows, 'touchlog', 'cpu_workers'):.2f}"]
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def _mb(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} MB"


def _rate(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:,.0f} msg/s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZES, default="small")
    parser.add_argument("--mix", action="append", choices=MIXES,
                        help="a mix to run (again for more; default: every mix)")
    parser.add_argument("--runs", type=int, help="rounds, their median shown (default 3; "
                                                  "tiny: 1)")
    parser.add_argument("--dir", help="where the mailboxes go (default: a temp dir)")
    parser.add_argument("--no-idle", action="store_true", help="skip the IDLE delivery probe")
    args = parser.parse_args()
    sizes, mixes = SIZES[args.size], args.mix or list(MIXES)
    runs = args.runs or (1 if args.size == "tiny" else 3)
    print(f"--size {args.size}: {', '.join(f'{n:,}' for n in sizes)} messages, mixes "
          f"{', '.join(mixes)}, {runs} round(s), {os.cpu_count()} cores, "
          f"{parallel.worker_count()} workers, load {os.getloadavg()[0]:.2f}", flush=True)
    results: dict[tuple[str, int], list[dict]] = defaultdict(list)
    with tempfile.TemporaryDirectory(prefix="touchlog-peers-", dir=args.dir) as tmp:
        mail = {(m, n): generate(m, n, Path(tmp)) for m in mixes for n in sizes}
        for round_ in range(runs):
            for mix in mixes:
                for count in sizes:
                    with tempfile.TemporaryDirectory(dir=tmp) as work:
                        row = one(mix, count, mail[mix, count], Path(work), round_ % 2 == 0)
                    results[mix, count].append(row)
                    print(_progress(round_, mix, count, row), flush=True)
    print("\n".join(table(results, sizes)))
    if not args.no_idle:
        from idle_probe import delivery_seconds

        with tempfile.TemporaryDirectory(prefix="touchlog-idle-", dir=args.dir) as tmp:
            seconds = delivery_seconds(Path(tmp), TOUCHLOG, settings_text, PASSWORD)
        print("IDLE delivery (APPEND → logged folder, `touchlog poll`, schedule.idle = true): "
              + (f"{seconds:.2f} s" if seconds is not None else "not measured"))
    print(f"load at the end: {os.getloadavg()[0]:.2f}")


def _progress(round_: int, mix: str, count: int, row: dict) -> str:
    ours = row["touchlog"]
    floor = f"floor {row['floor']['rate']:.0f} msg/s, " if "floor" in row else ""
    return (f"round {round_ + 1} {mix} {count:,}: {floor}touchlog {ours['rate']:.0f} msg/s"
            f" (cpu main {ours['cpu_main']:.2f} ms/msg, {ours['sys_main']:.2f} of it system, "
            f"workers {ours['cpu_workers']:.2f}; load {os.getloadavg()[0]:.2f}) {ours['summary']}")


if __name__ == "__main__":
    main()
