"""A pass's peak memory with one large message among small ones, and the time of a message with
100,000 recipients (SPEC 20 "Size").

    python bench/bench_memory.py --size tiny     # 2 MB among 30, 2,000 recipients (CI)
    python bench/bench_memory.py                 # 20 MB among 600, 100,000 recipients
    python bench/bench_memory.py --big-mb 43 --small 20   # any other mix

Starts a throwaway Dovecot on loopback and runs `touchlog poll --once` as its own process, as
cron does, while a thread samples the resident memory of that process and of every process it
started (the workers read mail once a pass has 500 messages or more) every 10 ms: the peak of
their sum is what the machine must have, and SPEC 20's budget is 200 MB plus 4x the largest
message the pass reads. The large message is a sales deck in base64 (random bytes, as a PDF's
compressed streams are), the small ones are 12 KB copies to a known contact.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.dovecot import Dovecot  # noqa: E402
from tools.procs import descendants  # noqa: E402

SIZES = {"tiny": (2, 30, 2_000), "full": (20, 600, 100_000)}
PASSWORD = "bench-pw"
PASSWORD_ENV = "BENCH_IMAP_PASSWORD"
AUTHSERV_ID = "mx.ourco.com"
MB = 1024 * 1024
BUDGET_MB = 200
FILLER = "We went through the rollout plan line by line and agreed on the next steps. " * 150


def _mail(n: int, to: str, body: str = FILLER) -> EmailMessage:
    msg = EmailMessage()
    msg["Authentication-Results"] = f"{AUTHSERV_ID}; dmarc=pass header.from=ourco.com"
    msg["From"] = "Sam Seller <sam@ourco.com>"
    msg["To"] = to
    msg["Subject"] = f"Rollout plan #{n}"
    msg["Date"] = "Mon, 02 Nov 2026 14:30:00 +0000"
    msg["Message-ID"] = f"<bench-memory-{n}@ourco.com>"
    msg.set_content(body)
    return msg


def small(n: int) -> bytes:
    return bytes(_mail(n, f"contact{n % 50}@cust{n % 50}.com"))


def large(megabytes: float, n: int = 0) -> bytes:
    """A message of about `megabytes` on the wire: the deck as a base64 attachment."""
    msg = _mail(n, "contact1@cust1.com", "Here is the deck we went through.\n")
    deck = random.Random(n).randbytes(int(megabytes * MB * 3 / 4) - 2000)
    msg.add_attachment(deck, maintype="application", subtype="pdf", filename="deck.pdf")
    return bytes(msg)


def many_recipients(count: int) -> bytes:
    """One message to the contact and `count` other addresses in To and Cc."""
    half = count // 2
    to = ", ".join(["contact1@cust1.com"] + [f"Person {i} <p{i}@crowd{i % 997}.example>"
                                             for i in range(half)])
    cc = ", ".join(f"q{i}@crowd{i % 991}.example" for i in range(count - half))
    head = (f"Authentication-Results: {AUTHSERV_ID}; dmarc=pass header.from=ourco.com\r\n"
            "From: Sam Seller <sam@ourco.com>\r\n"
            f"To: {_fold(to)}\r\nCc: {_fold(cc)}\r\n"
            "Subject: The all-hands invitation\r\n"
            "Date: Mon, 02 Nov 2026 14:30:00 +0000\r\n"
            "Message-ID: <bench-memory-crowd@ourco.com>\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n\r\n")
    return head.encode() + b"Everyone is welcome.\r\n"


def _fold(addresses: str) -> str:
    return addresses.replace(", ", ",\r\n ")


def write_setup(folder: Path, port: int, user: str, max_mb: float) -> Path:
    (folder / "team.csv").write_text("email,name,role,aliases\nsam@ourco.com,Sam,user,\n")
    accounts = ["account_id,name,parent_id,email_domains,default_bcc,contact_matches_only"]
    users = ["email,account_id,last_activity"]
    for i in range(50):
        accounts.append(f"A{i},Account {i},,cust{i}.com,false,false")
        users.append(f"contact{i}@cust{i}.com,A{i},2026-01-01")
    (folder / "accounts.csv").write_text("\n".join(accounts) + "\n")
    (folder / "users.csv").write_text("\n".join(users) + "\n")
    config = folder / "settings.toml"
    config.write_text(
        f'[mailbox]\nhost = "127.0.0.1"\nport = {port}\ntls = "none"\nusername = "{user}"\n'
        f'password_env = "{PASSWORD_ENV}"\n{_limit(max_mb)}'
        '[database]\nurl = "sqlite:///touchlog.db"\n'
        '[touchpoints]\nmailbox_address = "touchpoints@ourco.com"\n'
        'internal_domains = ["ourco.com"]\n'
        f'[notify]\nenabled = false\n[trust]\nauthserv_ids = ["{AUTHSERV_ID}"]\n')
    for kind in ("team", "accounts", "users"):
        touchlog(config, "import", kind, str(folder / f"{kind}.csv"))
    return config


def _limit(max_mb: float) -> str:
    # The key is SPEC 20's; BENCH_MEMORY_NO_LIMIT measures a touchlog from before it.
    if os.environ.get("BENCH_MEMORY_NO_LIMIT"):
        return ""
    return f"max_message_bytes = {int(max_mb * MB)}\n"


def touchlog(config: Path, *args: str) -> str:
    env = {**os.environ, PASSWORD_ENV: PASSWORD}
    done = subprocess.run([sys.executable, str(ROOT / "cli.py"), "--config", str(config), *args],
                          cwd=config.parent, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"touchlog {' '.join(args)}: exit {done.returncode}\n{done.stderr}")
    return done.stdout


class TreeMemory:
    """Samples the memory of a process and all its descendants until it ends: the peak of
    their summed RSS (what `ps` shows, pages the workers share with the forkserver counted
    in each) and of their summed PSS (each shared page divided among its sharers: what the
    machine must really have)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kb = 0
        self.peak_pss_kb = 0
        self.peak_processes = 0
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def join(self) -> None:
        self._thread.join()

    def _watch(self) -> None:
        while os.path.exists(f"/proc/{self.pid}") and _state(self.pid) not in ("Z", ""):
            tree = [self.pid, *descendants(self.pid)]
            total = sum(_memory_kb(p, "status", "VmRSS") for p in tree)
            if total > self.peak_kb:
                self.peak_kb, self.peak_processes = total, len(tree)
            pss = sum(_memory_kb(p, "smaps_rollup", "Pss") for p in tree)
            self.peak_pss_kb = max(self.peak_pss_kb, pss)
            time.sleep(0.01)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


def _memory_kb(pid: int, table: str, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/{table}").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass(frozen=True)
class Measured:
    cpu_seconds: float
    peak_mb: float  # summed RSS of the process tree
    peak_pss_mb: float  # summed PSS
    processes: int  # at the RSS peak
    summary: str


def measured_pass(config: Path) -> Measured:
    """One `poll --once`: its CPU seconds, its process tree's peak memory, its summary line.
    CPU rather than wall time: the machine is shared, and its load would be measured too."""
    env = {**os.environ, PASSWORD_ENV: PASSWORD}
    start = _children_cpu()
    process = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "--config", str(config),
                                "poll", "--once"], cwd=config.parent, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    memory = TreeMemory(process.pid)
    out, err = process.communicate()
    seconds = _children_cpu() - start
    memory.join()
    if process.returncode != 0:
        raise SystemExit(f"poll --once: exit {process.returncode}\n{err}")
    return Measured(seconds, memory.peak_kb / 1024, memory.peak_pss_kb / 1024,
                    memory.peak_processes, out.strip())


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(server: Dovecot, folder: Path, user: str, mail: list[bytes], max_mb: float) -> Measured:
    server.add_user(user, PASSWORD)
    server.seed(user, mail)
    home = folder / user.partition("@")[0]
    home.mkdir()
    return measured_pass(write_setup(home, server.port, user, max_mb))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZES, default="full")
    parser.add_argument("--big-mb", type=float, help="the large message's size in MB")
    parser.add_argument("--small", type=int, help="how many small messages beside it")
    parser.add_argument("--recipients", type=int, help="addresses in the crowd message")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    big_mb, count, crowd = SIZES[args.size]
    big_mb = args.big_mb or big_mb
    count = args.small if args.small is not None else count
    crowd = args.recipients or crowd
    with tempfile.TemporaryDirectory(prefix="touchlog-bench-memory-") as tmp:
        folder = Path(tmp)
        server = Dovecot(folder / "dovecot")
        server.start()
        try:
            mail = [small(n) for n in range(1, count + 1)]
            mail.insert(count // 2, large(big_mb))
            big = run(server, folder, "big@ourco.com", mail, max(big_mb * 2, 25))
            crowd_mail = many_recipients(crowd)
            many = run(server, folder, "crowd@ourco.com", [crowd_mail], 25)
        finally:
            server.stop()
    report(big_mb, count, big, crowd, len(crowd_mail), many, args.json)


def report(big_mb: float, count: int, big: Measured, crowd: int, crowd_bytes: int,
           many: Measured, as_json: bool) -> None:
    budget = BUDGET_MB + 4 * big_mb
    if as_json:
        print(json.dumps({"large_mb": big_mb, "small": count, "peak_mb": round(big.peak_mb),
                          "peak_pss_mb": round(big.peak_pss_mb), "budget_mb": round(budget),
                          "processes": big.processes, "large_cpu_s": round(big.cpu_seconds, 2),
                          "recipients": crowd, "crowd_kb": round(crowd_bytes / 1024),
                          "crowd_cpu_s": round(many.cpu_seconds, 2),
                          "crowd_peak_mb": round(many.peak_mb)}))
        return
    print(f"{count} messages of 12 KB and one of {big_mb:g} MB: peak {big.peak_mb:.0f} MB RSS "
          f"({big.peak_pss_mb:.0f} MB PSS) over {big.processes} process(es); budget "
          f"{BUDGET_MB} + 4 x {big_mb:g} = {budget:.0f} MB; {big.cpu_seconds:.1f} s CPU  "
          f"({big.summary})")
    print(f"one message to {crowd:,} recipients ({crowd_bytes / 1024:,.0f} KB): "
          f"{many.cpu_seconds:.1f} s CPU, peak {many.peak_mb:.0f} MB  ({many.summary})")


if __name__ == "__main__":
    main()
