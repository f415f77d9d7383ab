"""tools/dovecot.py, the throwaway server behind the tests and `make demo`."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tools.dovecot import DOVECOT, Dovecot, greets

pytestmark = [pytest.mark.imap,
              pytest.mark.skipif(not Path(DOVECOT).exists(), reason=f"{DOVECOT} not installed")]
TOOL = Path(__file__).resolve().parent.parent / "tools" / "dovecot.py"


def run_tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(TOOL), *args], capture_output=True, text=True,
                          timeout=30)


def test_cli_starts_on_a_free_port_and_stops(tmp_path: Path) -> None:
    directory = tmp_path / "dc"
    started = run_tool("start", str(directory), "--port", "0", "--user", "a@ourco.com:pw",
                       "--separator", ".")
    assert started.returncode == 0, started.stderr
    port = int((directory / "imap.port").read_text())
    assert f"imap=127.0.0.1:{port}" in started.stdout
    assert greets(port)
    stopped = run_tool("stop", str(directory))
    assert "stopped" in stopped.stdout
    assert not greets(port)


def test_stop_when_nothing_runs_says_so(tmp_path: Path) -> None:
    assert "was not running" in run_tool("stop", str(tmp_path)).stdout


def test_a_server_that_cannot_start_raises_with_its_log(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        server = Dovecot(tmp_path / "dc", busy.getsockname()[1], {"a@ourco.com": "pw"})
        with pytest.raises(RuntimeError, match="did not come up") as caught:
            server.start(timeout=5)
    assert "Address already in use" in str(caught.value)
