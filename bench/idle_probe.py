"""bench_peers.py's last figure: seconds from APPEND to the logged folder while `touchlog poll`
(schedule.idle = true, a 10-minute interval) waits in IMAP IDLE (SPEC 16: within 2 s)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

from imapclient import IMAPClient

from tools.dovecot import Dovecot

USER = "idle@ourco.com"


def delivery_seconds(folder: Path, touchlog: list[str], settings_text: Callable[..., str],
                     password: str, tries: int = 5) -> float | None:
    """The median of `tries` deliveries."""
    server = Dovecot(folder / "dovecot", users={USER: password})
    server.start()
    config = folder / "settings.toml"
    config.write_text(settings_text(server.port, USER, folder / "idle.db",
                                    interval_seconds=600, idle=True))
    env = {**os.environ, "BENCH_IMAP_PASSWORD": password}
    team = folder / "team.csv"
    team.write_text("email,name,role,aliases\nsam@ourco.com,Sam,user,\n")
    subprocess.run([*touchlog, "--config", str(config), "import", "team", str(team)], env=env,
                   check=True, capture_output=True)
    proc = subprocess.Popen([*touchlog, "--config", str(config), "poll"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with IMAPClient("127.0.0.1", port=server.port, ssl=False) as client:
            client.login(USER, password)
            if not _wait(lambda: _count(client, "Touchpoints/Logged") is not None, 30):
                return None
            times = [_one(client, n) for n in range(tries)]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        server.stop()
    times = sorted(t for t in times if t is not None)
    return times[len(times) // 2] if times else None


def _one(client: IMAPClient, n: int) -> float | None:
    time.sleep(1.0)  # back in IDLE after the previous pass
    msg = EmailMessage()
    msg["Authentication-Results"] = "mx.ourco.com; dmarc=pass header.from=ourco.com"
    msg["From"], msg["To"], msg["Subject"] = "sam@ourco.com", "x@nowhere.example", f"idle {n}"
    msg["Message-ID"] = f"<idle-probe-{n}@ourco.com>"
    msg.set_content("Probe.")
    before = (_count(client, "Touchpoints/Logged") or 0) + (_count(client, "Touchpoints/Failed")
                                                            or 0)
    start = time.perf_counter()
    client.append("INBOX", bytes(msg))
    done = _wait(lambda: (_count(client, "Touchpoints/Logged") or 0)
                 + (_count(client, "Touchpoints/Failed") or 0) > before, 30)
    return time.perf_counter() - start if done else None


def _count(client: IMAPClient, folder: str) -> int | None:
    try:
        return client.folder_status(folder, [b"MESSAGES"])[b"MESSAGES"]
    except Exception:  # not created yet
        return None


def _wait(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return False
