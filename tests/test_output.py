"""Progress as a person at a terminal sees it: a bar on stderr, the result alone on stdout."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _drain(master: int, chunks: list[bytes]) -> None:
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the terminal's other end is closed: all was read
            return
        if not chunk:
            return
        chunks.append(chunk)


def test_import_on_a_terminal_draws_a_bar_on_stderr_and_keeps_stdout_clean(tmp_path):
    (tmp_path / "settings.toml").write_text(
        '[database]\nurl = "sqlite:///t.db"\n[notify]\nenabled = false\n')
    accounts = tmp_path / "accounts.csv"
    accounts.write_text("account_id,name,parent_id,email_domains,default_bcc,"
                        "contact_matches_only\n"
                        + "".join(f"A{i},Account {i},,,false,false\n" for i in range(30_000)))
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "--config",
                             str(tmp_path / "settings.toml"), "import", "accounts",
                             str(accounts)], stdout=subprocess.PIPE, stderr=slave, text=True)
    os.close(slave)
    # Read the terminal while the import runs: a pty holds only a few KB, and a slow machine
    # redraws the bar often enough to fill it and block the import.
    chunks: list[bytes] = []
    reader = threading.Thread(target=_drain, args=(master, chunks))
    reader.start()
    stdout, _ = proc.communicate(timeout=120)
    reader.join(30)
    os.close(master)
    terminal = b"".join(chunks)
    assert proc.returncode == 0
    assert stdout.startswith("accounts: 30000 rows: 30000 added, 0 changed, 0 unchanged\n")
    assert b"import accounts" in terminal
    assert b"\x1b[" in terminal  # drawn with terminal control codes, then cleared
