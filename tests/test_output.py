"""Progress as a person at a terminal sees it: a bar on stderr, the result alone on stdout."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Generous: a shared 2-core machine under load may be many times slower than alone.
_TIMEOUT = 300.0


def _run_on_terminal(args: list[str]) -> tuple[int, str, bytes]:
    """Run `args` with stderr on a pty, reading the pty continuously until every writer has
    closed it (a pty holds only a few KB: an unread one blocks the child's redraws). stdout
    goes to a file, never a pipe, so neither stream can fill while the other is read."""
    master, slave = pty.openpty()
    chunks: list[bytes] = []
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=slave)
        os.close(slave)
        deadline = time.monotonic() + _TIMEOUT
        try:
            while time.monotonic() < deadline:
                ready, _, _ = select.select([master], [], [], 1.0)
                if not ready:
                    if proc.poll() is not None and not select.select([master], [], [], 1.0)[0]:
                        break  # ended, and nothing more came
                    continue
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the terminal's other end is closed, all was read
                    break
                if not chunk:
                    break
                chunks.append(chunk)
        finally:
            os.close(master)
            if proc.poll() is None:
                proc.kill()
            returncode = proc.wait(timeout=60)
        assert time.monotonic() < deadline, f"{args} still ran after {_TIMEOUT:.0f} s"
        out.seek(0)
        return returncode, out.read().decode(), b"".join(chunks)


def test_import_on_a_terminal_draws_a_bar_on_stderr_and_keeps_stdout_clean(tmp_path):
    (tmp_path / "settings.toml").write_text(
        '[database]\nurl = "sqlite:///t.db"\n[notify]\nenabled = false\n')
    accounts = tmp_path / "accounts.csv"
    accounts.write_text("account_id,name,parent_id,email_domains,default_bcc,"
                        "contact_matches_only\n"
                        + "".join(f"A{i},Account {i},,,false,false\n" for i in range(30_000)))
    returncode, stdout, terminal = _run_on_terminal(
        [sys.executable, str(ROOT / "cli.py"), "--config", str(tmp_path / "settings.toml"),
         "import", "accounts", str(accounts)])
    assert returncode == 0
    assert stdout.startswith("accounts: 30000 rows: 30000 added, 0 changed, 0 unchanged\n")
    assert b"import accounts" in terminal
    assert b"\x1b[" in terminal  # drawn with terminal control codes, then cleared
