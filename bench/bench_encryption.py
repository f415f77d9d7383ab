"""What encryption at rest (SPEC 12) costs a pass: the same mailbox polled into a plain and an
encrypted database, in the same run. The goal: at most 10% slower.

    python bench/bench_encryption.py --size tiny     # 200 messages (CI)
    python bench/bench_encryption.py --size small    # 2,000
    python bench/bench_encryption.py --size full     # 10,000

Two identical inboxes on a throwaway Dovecot (bench_poll's mail, with an attachment on every
tenth message so attachment files are sealed too); each pass into its own fresh SQLite file.
The plain and encrypted passes alternate `--rounds` times and the best of each is kept, so a
busy moment on the machine does not decide the ratio.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from email import message_from_bytes, policy
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_poll import PASSWORD, sample  # noqa: E402
from bench_poll import write_directory as import_bench_directory  # noqa: E402

from core.settings import SECTIONS, settings_from_dict  # noqa: E402
from poller.passes.poll import poll_once  # noqa: E402
from store.db import open_database  # noqa: E402
from store.encryption.keyring import new_key  # noqa: E402
from tools.dovecot import Dovecot  # noqa: E402

SIZES = {"tiny": 200, "small": 2000, "full": 10000}


def mail(n: int) -> bytes:
    raw = sample(n)
    if n % 10:
        return raw
    msg = message_from_bytes(raw, policy=policy.default)
    msg.add_attachment(os.urandom(2048) + n.to_bytes(4, "big"), maintype="application",
                       subtype="pdf", filename=f"quote-{n}.pdf")
    return bytes(msg)


def one_pass(server: Dovecot, user: str, folder: Path, count: int, keys: Path | None) -> float:
    folder.mkdir()
    database: dict[str, object] = {"url": f"sqlite:///{folder / 'bench.db'}"}
    if keys is not None:
        database["encryption_key_file"] = str(keys)
    raw = {
        "mailbox": {"host": "127.0.0.1", "port": server.port, "tls": "none", "username": user,
                    "password_env": "BENCH_IMAP_PASSWORD"},
        "database": database,
        "touchpoints": {"mailbox_address": "touchpoints@ourco.com",
                        "internal_domains": ["ourco.com"]},
        "notify": {"enabled": False},
    }
    if "trust" in SECTIONS:  # the same sender check on both sides; its cost is not measured here
        raw["trust"] = {"require": "none"}
    settings = settings_from_dict(raw, base_dir=folder)
    open_database(settings.database_url(), key_file=settings.encryption_key_path())
    import_bench_directory(folder)
    start = time.perf_counter()
    report = poll_once(settings)
    elapsed = time.perf_counter() - start
    assert report.counts.get("logged"), report.summary()
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZES, default="small")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    count = SIZES[args.size]
    os.environ["BENCH_IMAP_PASSWORD"] = PASSWORD
    with tempfile.TemporaryDirectory(prefix="touchlog-bench-crypto-") as tmp:
        folder = Path(tmp)
        keys = folder / "keys"
        keys.write_text(new_key() + "\n")
        keys.chmod(0o600)
        users = [f"u{i}@ourco.com" for i in range(2 * args.rounds)]
        server = Dovecot(folder / "dovecot", users=dict.fromkeys(users, PASSWORD))
        server.start()
        try:
            messages = [mail(n) for n in range(count)]
            for user in users:
                server.seed(user, messages)
            plain, sealed = [], []
            for i in range(args.rounds):
                plain.append(one_pass(server, users[2 * i], folder / f"plain{i}", count, None))
                sealed.append(one_pass(server, users[2 * i + 1], folder / f"sealed{i}", count,
                                       keys))
        finally:
            server.stop()
    best_plain, best_sealed = max(plain), max(sealed)
    print(f"{count} messages ({count // 10} with an attachment), best of {args.rounds}")
    print(f"plain database:     {best_plain:,.0f} msg/s")
    print(f"encrypted database: {best_sealed:,.0f} msg/s")
    print(f"encrypted/plain time: {best_plain / best_sealed:.3f}x "
          f"({(best_plain / best_sealed - 1) * 100:+.1f}%; goal: at most +10%)")


if __name__ == "__main__":
    main()
