"""OAuth2 without servers: the settings keys, token expiry, and keeping tokens out of logs,
reprs and tracebacks (the servers are in test_oauth2_e2e.py)."""

from __future__ import annotations

import base64
import json
import logging
import subprocess
import sys
import time
import traceback
from pathlib import Path

import pytest

from core.errors import ConfigError, TokenError
from core.oauth2_config import imap_config
from core.settings import settings_from_dict
from poller.net.oauth2 import Token, TokenSession, jwt_expiry
from poller.net.secrets import keep_secret, redact

ROOT = Path(__file__).resolve().parents[1]
MS = {"oauth2_provider": "microsoft", "oauth2_tenant": "t", "oauth2_client_id": "c",
      "oauth2_client_secret_env": "S"}


def _jwt(exp: float) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{part({'alg': 'none'})}.{part({'exp': exp})}.c2ln"


@pytest.mark.parametrize("raw, message", [
    ({"mailbox": {"auth": "token"}}, "mailbox.auth must be one of 'password', 'oauth2'"),
    ({"mailbox": {"auth": "oauth2"}}, "mailbox.auth = \"oauth2\" needs exactly one of "
                                      "mailbox.oauth2_token_command, mailbox.oauth2_token_env, "
                                      "mailbox.oauth2_token_file, mailbox.oauth2_provider"),
    ({"mailbox": {"auth": "oauth2", "oauth2_token_env": "T", "oauth2_token_command": "c"}},
     "(given: mailbox.oauth2_token_command, mailbox.oauth2_token_env)"),
    ({"mailbox": {"oauth2_token_env": "T"}},
     "mailbox.oauth2_token_env is set but mailbox.auth is 'password': set mailbox.auth = "
     "\"oauth2\""),
    ({"mailbox": {"auth": "oauth2", "oauth2_provider": "okta"}},
     "mailbox.oauth2_provider must be one of '', 'microsoft', 'google', not 'okta'"),
    ({"mailbox": {"auth": "oauth2", **MS, "oauth2_client_id": ""}},
     "mailbox.oauth2_provider = 'microsoft' needs mailbox.oauth2_client_id"),
    ({"mailbox": {"auth": "oauth2", **MS, "oauth2_tenant": ""}},
     "needs mailbox.oauth2_tenant (or mailbox.oauth2_authority)"),
    ({"mailbox": {"auth": "oauth2", **MS, "oauth2_client_secret_env": ""}},
     "needs one of mailbox.oauth2_client_secret_env or mailbox.oauth2_client_secret_file"),
    ({"mailbox": {"auth": "oauth2", "oauth2_provider": "google"}},
     "mailbox.oauth2_provider = 'google' needs mailbox.oauth2_service_account_file"),
    ({"notify": {"smtp_auth": "oauth2", "smtp_oauth2_token_env": "T"}},
     "notify.smtp_auth = \"oauth2\" needs notify.smtp_username"),
    ({"notify": {"smtp_oauth2_provider": "google"}},
     "notify.smtp_oauth2_provider is set but notify.smtp_auth is 'password'"),
    ({"notify": {"smtp_auth": "oauth2", "smtp_username": "u", "smtp_oauth2_token_env": "T",
                 "smtp_oauth2_token_command": "x"}}, "needs exactly one of notify.smtp_oauth2_"),
])
def test_wrong_oauth2_settings_name_the_key(raw, message):
    with pytest.raises(ConfigError) as info:
        settings_from_dict(raw)
    assert message in str(info.value)


def test_valid_oauth2_settings_load():
    s = settings_from_dict({"mailbox": {"auth": "oauth2", **MS},
                            "notify": {"smtp_auth": "oauth2", "smtp_username": "u",
                                       "smtp_oauth2_token_command": "helper --print"}})
    assert (s.mailbox.auth, s.notify.smtp_auth) == ("oauth2", "oauth2")


def test_expiry_comes_from_a_jwt_or_a_json_answer_and_is_renewed_early(tmp_path, monkeypatch):
    exp = time.time() + 3600
    assert jwt_expiry(_jwt(exp)) == pytest.approx(exp)
    assert jwt_expiry("ya29.opaque") is None
    monkeypatch.setenv("TOKEN_JSON", json.dumps({"access_token": "abcdefgh-1", "expires_in": 60}))
    settings = settings_from_dict({"mailbox": {"auth": "oauth2", "oauth2_token_env": "TOKEN_JSON"}},
                                  base_dir=tmp_path)
    token = TokenSession(imap_config(settings.mailbox, settings.base_dir)).token()
    assert token.value == "abcdefgh-1" and token.expires_at == pytest.approx(time.time() + 60, 2)
    now = token.fetched_at
    assert token.usable(now + 40) and not token.usable(now + 46)  # a quarter of 60 s early
    long = Token("x" * 10, now + 3600, "here", fetched_at=now)
    assert long.usable(now + 3200) and not long.usable(now + 3301)  # 5 minutes early
    assert "expires " in long.expiry(now) and "(in 60 min)" in long.expiry(now)
    assert Token("x" * 10, None, "here").expiry() == "expiry unknown (read again at every sign-in)"


def test_a_failing_token_command_is_one_line_naming_the_key(tmp_path):
    settings = settings_from_dict({"mailbox": {
        "auth": "oauth2", "oauth2_token_command": "echo 'helper: no session' >&2; exit 3"}},
        base_dir=tmp_path)
    with pytest.raises(TokenError) as info:
        TokenSession(imap_config(settings.mailbox, settings.base_dir)).token()
    assert str(info.value) == ("mailbox.oauth2_token_command: the command failed (exit status 3):"
                               " helper: no session")


def test_tokens_stay_out_of_reprs_logs_and_tracebacks(caplog):
    token = "eyJ-secret-token-value"
    assert token not in repr(Token(token, None, "here"))
    keep_secret(token)
    assert redact(f"Bearer {token}") == "Bearer [redacted]"
    handler = logging.StreamHandler()
    logging.getLogger().addHandler(handler)
    try:
        keep_secret(token)  # installs the mask on the handlers there are now
        record = logging.LogRecord("msal", logging.DEBUG, __file__, 1, "got %s", (token,), None)
        for f in handler.filters:
            f.filter(record)
        assert record.getMessage() == "got [redacted]"
        try:
            raise ValueError(f"bad {token}")
        except ValueError:
            record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (),
                                       sys.exc_info())
        for f in handler.filters:
            f.filter(record)
        assert record.exc_info is None and "withheld" in record.getMessage()
    finally:
        logging.getLogger().removeHandler(handler)
    assert "secret" not in "".join(traceback.format_exception(TokenError("mailbox.x: failed")))


def test_provider_libraries_load_only_when_a_token_is_fetched():
    code = ("import sys, cli, poller.passes.poll, poller.imap.login, poller.notify.notices, "
            "commands.checks.parts, poller.net.oauth2; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'msal', 'google', 'requests', 'jwt'}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_xoauth2_is_preferred_and_a_server_with_neither_is_named():
    from core.errors import NoticeError
    from poller.net.sasl import choose_mechanism

    assert choose_mechanism(["PLAIN", "OAUTHBEARER", "XOAUTH2"], "x", NoticeError) == "XOAUTH2"
    assert choose_mechanism(["oauthbearer"], "x", NoticeError) == "OAUTHBEARER"
    with pytest.raises(NoticeError) as info:
        choose_mechanism(["PLAIN", "LOGIN"], "smtp mail.ourco.com:587", NoticeError)
    assert str(info.value) == ("smtp mail.ourco.com:587: offers neither XOAUTH2 nor OAUTHBEARER, "
                               "so no OAuth2 sign-in (it offers PLAIN, LOGIN)")


def test_every_imap_session_starts_where_oauth2_is_handled():
    """A new Mailbox.connect(..., settings.imap_password()) elsewhere would sign in with a
    password when mailbox.auth = "oauth2": poller/imap/login.py's open_mailbox is the one way in."""
    offenders = [str(path.relative_to(ROOT)) for folder in ("poller", "commands", "store")
                 for path in (ROOT / folder).glob("*.py")
                 if "imap_password()" in path.read_text() and path.name != "signin.py"]
    assert offenders == []
