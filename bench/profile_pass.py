"""Where a pass's time goes on one mix: `touchlog poll --once` over a generated mailbox, under a
profiler.

    python bench/profile_pass.py business 5000 --tool pyspy      # wall time, workers too
    python bench/profile_pass.py notes 2000 --tool cprofile      # CPU per function, serial
    python bench/profile_pass.py threads 300 --tool callgrind    # instructions (load-proof)

`pyspy` records the pass and its workers (py-spy from PyPI) into OUT.pyspy.txt (collapsed
stacks); `cprofile` runs the pass in this process with workers off, timed by CPU time (another
engineer's load moves it less than wall time), into OUT.prof and a printed top; `callgrind`
counts the instructions of the same serial pass (valgrind), a figure the machine's load does not
move: compare it before and after a change.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_peers import PASSWORD, TOUCHLOG, USERS, generate, seed, settings_text  # noqa: E402
from mailgen import MIXES  # noqa: E402

from tools.dovecot import Dovecot  # noqa: E402

# The pass in one process (workers off: PARALLEL_MIN out of reach), profiled or not.
SERIAL = ("import sys, time; sys.argv = ['touchlog'] + sys.argv[1:]; sys.path.insert(0, {root!r})\n"
          "import poller.passes.workers as w; w.PARALLEL_MIN = 10**9\n"
          "import cli\n"
          "run = lambda: cli.main.main(args=sys.argv[1:], standalone_mode=False)\n"
          "if sys.argv[0] == 'touchlog' and {out!r}:\n"
          "    import cProfile; p = cProfile.Profile(time.process_time); p.runcall(run)\n"
          "    p.dump_stats({out!r})\n"
          "else:\n"
          "    run()\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mix", choices=MIXES)
    parser.add_argument("count", type=int)
    parser.add_argument("--tool", choices=("pyspy", "cprofile", "callgrind", "none"),
                        default="pyspy")
    parser.add_argument("--out", default="/tmp/touchlog-profile")
    parser.add_argument("--idle", action="store_true",
                        help="py-spy: keep the samples of waiting (the server, the workers)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="touchlog-profile-") as tmp:
        folder = Path(tmp)
        mail = generate(args.mix, args.count, folder)
        server = Dovecot(folder / "dovecot", users={USERS[1]: PASSWORD})
        server.start()
        try:
            seed(server, USERS[1], mail)
            config = folder / "settings.toml"
            config.write_text(settings_text(server.port, USERS[1], folder / "touchlog.db",
                                            require=MIXES[args.mix].trust))
            env = {**os.environ, "BENCH_IMAP_PASSWORD": PASSWORD}
            for kind in ("team", "accounts", "users"):
                subprocess.run([*TOUCHLOG, "--config", str(config), "import", kind,
                                str(mail / f"{kind}.csv")], env=env, check=True,
                               capture_output=True)
            started = time.perf_counter()
            command = _command(args.tool, args.out, config)
            if args.idle and args.tool == "pyspy":
                command.insert(2, "--idle")
            subprocess.run(command, env=env, check=True)
            print(f"{args.mix} {args.count}: {time.perf_counter() - started:.1f} s wall, "
                  f"load {os.getloadavg()[0]:.2f}")
        finally:
            server.stop()
    if args.tool == "cprofile":
        import pstats

        pstats.Stats(f"{args.out}.prof").sort_stats("tottime").print_stats(45)


def _command(tool: str, out: str, config: Path) -> list[str]:
    poll = ["--config", str(config), "poll", "--once"]
    if tool == "pyspy":
        return [str(Path(sys.executable).parent / "py-spy"), "record", "--subprocesses",
                "--format", "raw", "--rate", "250", "-o", f"{out}.pyspy.txt", "--", *TOUCHLOG,
                *poll]
    if tool == "cprofile":
        return [sys.executable, "-c", SERIAL.format(root=str(ROOT), out=f"{out}.prof"), *poll]
    if tool == "callgrind":
        return ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}.callgrind",
                sys.executable, "-c", SERIAL.format(root=str(ROOT), out=""), *poll]
    return [*TOUCHLOG, *poll]


if __name__ == "__main__":
    main()
