"""How long an empty `touchlog poll --once` takes, the way cron starts it (issue 10: < 0.25 s).

    python bench/bench_startup.py --size tiny    # 3 runs (CI)
    python bench/bench_startup.py --size full    # 30 runs

Starts a throwaway Dovecot on loopback with an empty inbox, imports a small directory into a
SQLite file, then runs `touchlog poll --once` as its own process again and again: Python's start,
the imports, the settings, the database, the IMAP login, SELECT and SEARCH, the run row, the lock.
Prints the minimum and median wall and CPU seconds, the same for a bare `python -c pass` (the
part no code of ours can save), and what the command imports that an empty pass does not need.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_peers import PASSWORD, TOUCHLOG, settings_text  # noqa: E402
from mailgen import Mix  # noqa: E402

from tests.test_startup import modules_imported, needless  # noqa: E402
from tools.dovecot import Dovecot  # noqa: E402

SIZES = {"tiny": 3, "full": 30}


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, children included) of one run of `command`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise SystemExit(f"{' '.join(command[-3:])} failed ({done.returncode}): {done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def imported(command: list[str], env: dict[str, str]) -> set[str]:
    """The modules `command` imports, from Python's -X importtime report."""
    done = subprocess.run([command[0], "-X", "importtime", *command[1:]], env=env,
                          capture_output=True, text=True)
    return modules_imported(done.stderr)


def line(name: str, runs: list[tuple[float, float]]) -> str:
    walls, cpus = [w for w, _ in runs], [c for _, c in runs]
    return (f"| {name} | {min(walls):.3f} s | {statistics.median(walls):.3f} s "
            f"| {min(cpus):.3f} s | {statistics.median(cpus):.3f} s |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZES, default="tiny")
    args = parser.parse_args()
    count = SIZES[args.size]
    with tempfile.TemporaryDirectory(prefix="touchlog-startup-") as tmp:
        folder = Path(tmp)
        server = Dovecot(folder / "dovecot", users={"touchlog@ourco.com": PASSWORD})
        server.start()
        try:
            config = folder / "settings.toml"
            config.write_text(settings_text(server.port, "touchlog@ourco.com",
                                            folder / "touchlog.db"))
            # As cron runs it: Python keeps the compiled modules (a shell that sets
            # PYTHONDONTWRITEBYTECODE would make every run compile ours again, ~40 ms).
            env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
            env["BENCH_IMAP_PASSWORD"] = PASSWORD
            paths = Mix(seed=7).write_directory(folder)
            for kind in ("team", "accounts", "users"):
                subprocess.run([*TOUCHLOG, "--config", str(config), "import", kind,
                                str(paths[kind])], env=env, check=True, capture_output=True)
            command = [*TOUCHLOG, "--config", str(config), "poll", "--once"]
            timed(command, env)  # the first pass creates the folders: not an empty pass's work
            ours, bare = [], []
            for _ in range(count):  # interleaved: the machine's speed drifts from minute to minute
                ours.append(timed(command, env))
                bare.append(timed([sys.executable, "-c", "pass"], env))
            modules = imported(command, env)
        finally:
            server.stop()
    print(f"--size {args.size}: {count} runs of an empty `touchlog poll --once`, "
          f"{os.cpu_count()} cores")
    print("| run | min wall | median wall | min CPU | median CPU |")
    print("|---|---|---|---|---|")
    print(line("touchlog poll --once, empty inbox", ours))
    print(line("python -c pass", bare))
    extra = sorted(needless(modules))  # the list tests/test_startup.py keeps
    print(f"modules imported: {len(modules)}; of those an empty pass never needs: "
          + (", ".join(extra) if extra else "none"))


if __name__ == "__main__":
    main()
