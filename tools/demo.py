"""`make demo` (demo/run.sh) run as a person runs it, for the test that opens its web app and
for tools/screenshots.py: it runs in a folder of its own (DEMO_RUN_DIR) with the web app on a
port of its own, until Enter.

    with running_demo(folder) as demo:
        demo.base          # http://127.0.0.1:PORT, what the demo printed
        demo.sign_in_link  # the link it printed for its demo member
    demo.exit_status       # 0 once Enter stopped it (and its servers)
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_LINK = re.compile(r"^\s*(http://127\.0\.0\.1:(\d+))/login/link/\S+$")


@dataclass
class Demo:
    process: subprocess.Popen
    output: list[str] = field(default_factory=list)
    base: str = ""
    sign_in_link: str = ""
    exit_status: int | None = None

    def read_until_link(self, timeout: float) -> None:
        """Its output up to the sign-in link; a demo still silent after `timeout` is killed."""
        stdout = self.process.stdout
        assert stdout is not None
        watchdog = threading.Timer(timeout, self.process.kill)
        watchdog.start()
        try:
            for line in stdout:
                self.output.append(line)
                found = _LINK.match(line)
                if found:
                    self.base, self.sign_in_link = found.group(1), line.strip()
                    return
        finally:
            watchdog.cancel()
        raise RuntimeError("the demo printed no sign-in link:\n" + "".join(self.output[-40:]))

    def stop(self) -> None:
        """Enter, as the demo asks; the rest of what it prints is kept."""
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.write("\n")
            self.process.stdin.flush()
        rest, _ = self.process.communicate(timeout=60)
        self.output.append(rest or "")
        self.exit_status = self.process.returncode


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_demo(folder: Path, timeout: float = 600) -> Iterator[Demo]:
    env = {**os.environ, "DEMO_WAIT": "1", "DEMO_RUN_DIR": str(folder),
           "DEMO_WEB_PORT": str(free_port())}
    process = subprocess.Popen([str(ROOT / "demo" / "run.sh")], cwd=ROOT, env=env, text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    demo = Demo(process)
    try:
        demo.read_until_link(timeout)
        yield demo
    finally:
        if process.poll() is None:
            demo.stop()
