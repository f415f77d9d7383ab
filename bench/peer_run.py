"""Runs one peer of bench_peers.py as its own process and measures it: its rate, the peak RSS of
its main process and of its largest child, and the CPU each spent (read from /proc every 0.1 s,
and once more when the main process has ended, before it is reaped)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from tools.procs import descendants

PY = sys.executable
LEAN = Path(__file__).resolve().parent / "lean_peer.py"
TICK = os.sysconf("SC_CLK_TCK")


def floor_run(port: int, user: str, password: str, folder: Path, mail: Path) -> dict:
    done = subprocess.run([PY, str(LEAN), "127.0.0.1", str(port), user, password,
                           str(folder / "lean.db"), str(mail / "users.csv")],
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"lean_peer failed ({done.returncode}): {done.stderr[-2000:]}")
    _, rate, rss = done.stdout.split()
    return {"rate": float(rate), "rss": float(rss)}


def touchlog_run(touchlog: list[str], config: Path, password: str, folder: Path, mail: Path,
                 count: int) -> dict:
    env = {**os.environ, "BENCH_IMAP_PASSWORD": password}
    for kind in ("team", "accounts", "users"):
        subprocess.run([*touchlog, "--config", str(config), "import", kind,
                        str(mail / f"{kind}.csv")], env=env, check=True, capture_output=True)
    proc = subprocess.Popen([*touchlog, "--config", str(config), "poll", "--once"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = watch(proc.pid)
    out, err = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"touchlog failed ({proc.returncode}): {err[-2000:]}")
    main = seen.pop(proc.pid, (0, 0.0, 0.0))
    return {"rate": count / pass_seconds(folder / "touchlog.db"), "rss": main[0] / 1024,
            "rss_workers": max((f[0] for f in seen.values()), default=0) / 1024,
            "cpu_main": main[1] * 1000 / count, "sys_main": main[2] * 1000 / count,
            "cpu_workers": sum(f[1] for f in seen.values()) * 1000 / count,
            "summary": out.strip().splitlines()[-1] if out.strip() else ""}


def watch(pid: int) -> dict[int, tuple[int, float, float]]:
    """pid -> (peak RSS in kB, CPU seconds, of which system) for `pid` and its descendants,
    until `pid` ends (left unreaped, so its own figures can still be read)."""
    seen: dict[int, tuple[int, float, float]] = {}
    while True:
        ended = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
        for each in [pid, *descendants(pid)]:
            figures = _figures(each)
            if figures is not None:  # a zombie has no memory left to show: keep the peak
                seen[each] = (max(figures[0], seen.get(each, (0, 0.0, 0.0))[0]), *figures[1:])
        if ended:
            return seen
        time.sleep(0.1)


def _figures(pid: int) -> tuple[int, float, float] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open(f"/proc/{pid}/status") as f:
            hwm = next((int(line.split()[1]) for line in f if line.startswith("VmHWM:")), 0)
    except (OSError, StopIteration, ValueError):
        return None
    # utime and stime: fields 14 and 15 of stat, 12 and 13 after the command's ")".
    return hwm, (int(fields[11]) + int(fields[12])) / TICK, int(fields[12]) / TICK


def pass_seconds(db: Path) -> float:
    """The last pass's own time, from its `runs` row (microseconds kept in the database)."""
    with sqlite3.connect(db) as conn:
        start, end = conn.execute("SELECT started_at, finished_at FROM run "
                                  "ORDER BY id DESC LIMIT 1").fetchone()
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
