"""`touchlog serve` for real (SPEC 21): a waitress process on a free port, spoken to over HTTP
by a client of its own (requests), signed in by the link the SMTP sink received, and stopped by
SIGTERM with exit status 0."""

from __future__ import annotations

import os
import re
import select
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from tests.smtpsink import free_port
from tests.web_world import METRICS_ENV, METRICS_TOKEN, WebWorld
from tests.world import ROOT


def _spawn(web: WebWorld, *args: str) -> subprocess.Popen:
    env = {**os.environ, METRICS_ENV: METRICS_TOKEN}
    return subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "--config", str(web.config),
                             "serve", *args], cwd=web.folder, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _first_line(process: subprocess.Popen, timeout: float = 30) -> str:
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    assert ready, "serve printed nothing"
    return process.stdout.readline().strip()


def _csrf(session: requests.Session, url: str) -> str:
    return re.search(r'name="csrf_token" value="([0-9a-f]{64})"', session.get(url).text).group(1)


@pytest.fixture
def served(web):
    port = free_port()
    process = _spawn(web, "--listen", f"127.0.0.1:{port}")
    try:
        line = _first_line(process)
        yield web, f"http://127.0.0.1:{port}", line, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serve_answers_over_http_and_stops_on_sigterm_with_exit_0(served):
    web, base, line, process = served
    assert line.startswith(f"serving {base} (people open http://touchlog.test)")
    health = requests.get(f"{base}/healthz", timeout=10)
    assert (health.status_code, health.text) == (200, "ok")
    assert health.headers["Content-Security-Policy"] == "default-src 'self'"
    assert health.headers["Server"] == "touchlog"
    page = requests.get(f"{base}/accounts", allow_redirects=False, timeout=10)
    assert (page.status_code, page.headers["Location"]) == (302, "/login")
    metrics = requests.get(f"{base}/metrics", timeout=10,
                           headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert metrics.status_code == 200 and "touchlog_messages" in metrics.text
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0
    assert process.stderr.read() == ""
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base}/healthz", timeout=5)


def test_a_member_signs_in_through_the_server(served):
    web, base, _, process = served
    browser = requests.Session()
    token = _csrf(browser, f"{base}/login")
    asked = browser.post(f"{base}/login/email", timeout=10,
                         data={"email": "sam@ourco.com", "csrf_token": token})
    assert asked.status_code == 200 and "Check your mail" in asked.text
    deadline = time.monotonic() + 15
    while not web.smtp.messages and time.monotonic() < deadline:
        time.sleep(0.05)  # the server mails from a thread of its own
    [mail] = web.smtp.messages
    path = re.search(r"http://touchlog\.test(/login/link/\S+)", mail.message.get_content()).group(1)
    done = browser.post(f"{base}{path}", allow_redirects=False, timeout=10,
                        data={"csrf_token": _csrf(browser, f"{base}{path}")})
    assert done.status_code == 303
    page = browser.get(f"{base}/accounts", timeout=10)
    assert page.status_code == 200 and "Acme Corp" in page.text and "Sam Seller" in page.text
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0


def test_a_port_in_use_is_one_line_and_exit_1(web):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = _spawn(web, "--listen", f"127.0.0.1:{port}")
        _, err = process.communicate(timeout=30)
    assert process.returncode == 1
    assert err.strip().startswith(f"touchlog: cannot listen on 127.0.0.1:{port}: ")
    assert len(err.strip().splitlines()) == 1


def test_listen_must_be_host_and_port(web):
    process = _spawn(web, "--listen", "8765")
    _, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "'8765' is not HOST:PORT" in err
