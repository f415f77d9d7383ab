"""SPEC 20, "Secrets stay secret": a failing token command's output is neither printed nor kept
in `runs` (its exit status and one line with anything token-like cut out); a command past its
timeout is killed with every process it started; a password in `database.url` is `***`
wherever touchlog shows the URL; `notify.smtp_tls = "none"` is for loopback hosts only."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from core.errors import ConfigError, TokenError
from core.oauth2_config import imap_config
from core.settings import settings_from_dict
from poller.net import oauth2
from poller.net.oauth2 import TokenSession
from tests.builders import alive
from tests.world import World

TOKEN = "ya29.a0AfB_byC-secretTOKENvalue1234567890"
REFRESH = "1//0g-refreshTOKEN9876543210abcdefghij"
PASSWORD = "Sup3r-s3cret"


def failing(tmp_path: Path, command: str) -> TokenError:
    settings = settings_from_dict({"mailbox": {"auth": "oauth2", "oauth2_token_command": command}},
                                  base_dir=tmp_path)
    with pytest.raises(TokenError) as info:
        TokenSession(imap_config(settings.mailbox, settings.base_dir)).token()
    return info.value


# tests/test_oauth2_e2e.py polls a real OAuth2 Dovecot with it: nothing printed, nothing in runs.
LEAKY = (f"echo {TOKEN}; echo 'refresh_token={REFRESH} expired for {TOKEN}' >&2; "
         "echo 'second line' >&2; exit 4")


def test_a_failing_token_command_says_its_status_and_one_line_without_tokens(tmp_path):
    line = str(failing(tmp_path, LEAKY))
    assert line == ("mailbox.oauth2_token_command: the command failed (exit status 4): "
                    "refresh_token=… expired for …")
    assert "oauth2_token_command: the command failed (exit status 7)" in str(
        failing(tmp_path, f"echo {TOKEN}; exit 7"))
    assert TOKEN not in str(failing(tmp_path, f"echo {TOKEN}; exit 7"))


def test_a_command_past_its_timeout_is_killed_with_its_children(tmp_path, monkeypatch):
    monkeypatch.setattr(oauth2, "COMMAND_TIMEOUT", 1.0)
    command = "sleep 300 & echo $! > child.pid; sleep 301 & echo $! >> child.pid; wait"
    started = time.monotonic()
    error = failing(tmp_path, command)
    assert time.monotonic() - started < 10
    assert "did not finish in 1s" in str(error)
    children = [int(pid) for pid in (tmp_path / "child.pid").read_text().split()]
    assert len(children) == 2
    deadline = time.monotonic() + 5
    while any(map(alive, children)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(map(alive, children))


URLS = [f"postgresql://touchlog:{PASSWORD}@127.0.0.1:1/touchlog",
        f"postgresql://touchlog@127.0.0.1:1/touchlog?sslmode=disable&password={PASSWORD}"]


@pytest.mark.imap
@pytest.mark.parametrize("url", URLS, ids=["user-part", "query"])
def test_a_password_in_the_database_url_is_never_shown(world: World, url: str, caplog):
    world.write_settings(database={"url": url})
    caplog.set_level(logging.DEBUG)
    said = []
    for command in (["-vv", "poll", "--once"], ["touchpoints"], ["runs"], ["failures"]):
        result = world.touchlog(*command, expect=1)
        [line] = [x for x in result.output.splitlines() if x.startswith("touchlog:")]
        assert "127.0.0.1:1" in line and "***" in line, line
        said.append(result.output)
    check = world.touchlog("check", expect=1).output
    [line] = [x for x in check.splitlines() if x.startswith("database")]
    assert "FAIL" in line and "***" in line, line
    for text in [*said, check, caplog.text]:
        assert PASSWORD not in text


def test_a_password_in_a_refused_database_url_is_not_shown(tmp_path):
    with pytest.raises(ConfigError) as info:
        settings_from_dict({"database": {"url": f"mysql://u:{PASSWORD}@db/touchlog"}},
                           base_dir=tmp_path)
    assert PASSWORD not in str(info.value) and "mysql://u:***@db/touchlog" in str(info.value)


def test_plain_smtp_is_for_loopback_only(tmp_path):
    with pytest.raises(ConfigError) as info:
        settings_from_dict({"notify": {"smtp_host": "smtp.ourco.com", "smtp_tls": "none"}},
                           base_dir=tmp_path)
    assert str(info.value).endswith('notify.smtp_tls = "none" is allowed only for a loopback '
                                    "host, not 'smtp.ourco.com'")
    for host in ("127.0.0.1", "localhost", "::1"):
        settings_from_dict({"notify": {"smtp_host": host, "smtp_tls": "none"}},
                           base_dir=tmp_path)
