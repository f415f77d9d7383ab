"""OAuth2 sign-in end to end (SPEC section 19): a real Dovecot whose oauth2 passdb asks a fake
identity provider about every token, tokens from that provider over HTTPS with a throwaway CA
(client credentials, JWT bearer, or handed to touchlog by a command, a variable or a file),
and an SMTP server that takes nothing but XOAUTH2/OAUTHBEARER."""

from __future__ import annotations

import json
import signal
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from core.errors import MailboxError
from core.settings import load_settings
from poller.imap.login import open_mailbox
from tests.builders import make_mail
from tests.fakeidp import FakeIdentity, OAuthSmtpSink
from tests.test_secrets_stay_secret import LEAKY, REFRESH, TOKEN
from tests.world import (
    PASSWORD,
    PASSWORD_ENV,
    ImapAccount,
    installed,
    new_account,
    running_dovecot,
)
from tools.dovecot import Dovecot

SECRET_ENV = "TOUCHLOG_TEST_CLIENT_SECRET"
TOKEN_ENV = "TOUCHLOG_TEST_TOKEN"
TENANT = "contoso"

pytestmark = pytest.mark.imap


@contextmanager
def oauth2_dovecot(idp: FakeIdentity, mechanisms: tuple[str, ...] = ("xoauth2", "oauthbearer")
                   ) -> Iterator[Dovecot]:
    with running_dovecot(users={}, imaps_port=None,
                         oauth2_introspection_url=idp.introspection_url,
                         oauth2_mechanisms=mechanisms) as server:
        yield server


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeIdentity]:
    server = FakeIdentity(tmp_path_factory.mktemp("idp")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def oauth_server(idp: FakeIdentity) -> Iterator[Dovecot]:
    with oauth2_dovecot(idp) as server:
        yield server


@pytest.fixture(autouse=True)
def foreign_ca_bundles(idp: FakeIdentity, monkeypatch: pytest.MonkeyPatch,
                       tmp_path: Path) -> None:
    """As on this project's machines: the environment names a CA bundle that does not hold the
    identity provider's CA. ca_file must win over it."""
    other = tmp_path / "other-ca.pem"
    other.write_bytes(Path(idp.directory / "idp-cert.pem").read_bytes().split(b"-----BEGIN P")[0])
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.setenv(name, str(other))
    idp.refuse_all, idp.lifetime = False, 3.0
    idp.grants.clear()


@pytest.fixture
def account(oauth_server: Dovecot, monkeypatch: pytest.MonkeyPatch) -> ImapAccount:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)  # the tests' own look at the server
    return new_account(oauth_server)


def microsoft(idp: FakeIdentity, mailbox: str, monkeypatch: pytest.MonkeyPatch,
              prefix: str = "") -> dict[str, Any]:
    client_id, secret = idp.add_app(mailbox)
    monkeypatch.setenv(SECRET_ENV, secret)
    return {f"{prefix}auth": "oauth2", f"{prefix}oauth2_provider": "microsoft",
            f"{prefix}oauth2_authority": idp.base_url, f"{prefix}oauth2_tenant": TENANT,
            f"{prefix}oauth2_client_id": client_id,
            f"{prefix}oauth2_client_secret_env": SECRET_ENV, "ca_file": str(idp.ca_file)}


def oauth_world(tmp_path: Path, account: ImapAccount, mailbox: dict[str, Any], **sections: Any):
    world = installed(tmp_path, account)
    world.write_settings(mailbox=mailbox, **sections)
    return world


def assert_no_token(idp: FakeIdentity, *texts: str) -> None:
    for token in idp.issued:
        for text in texts:
            assert token not in text
            assert token.split(".")[-1] not in text


def test_microsoft_client_credentials_poll_and_check(idp, account, tmp_path, monkeypatch):
    world = oauth_world(tmp_path, account, microsoft(idp, account.username, monkeypatch))
    account.append(make_mail(to="wile@acme.com"))

    out = world.poll()
    assert "logged 1" in out
    assert idp.grants["client_credentials"] == 1
    check = world.touchlog("check").output
    line = next(line for line in check.splitlines() if line.startswith("imap"))
    assert "login ok (none), oauth2 XOAUTH2, token from microsoft (tenant contoso" in line
    assert " expires " in line and "(in " in line
    runs = world.touchlog("runs", "--format", "json").output
    assert_no_token(idp, out, check, runs)


def test_a_long_poll_outlives_its_tokens(idp, account, tmp_path, monkeypatch):
    idp.lifetime = 2.0
    world = oauth_world(tmp_path, account, microsoft(idp, account.username, monkeypatch))
    account.append(make_mail(to="wile@acme.com", subject="first"))
    process = world.spawn("-vv", "poll")  # debug logs of every library: still no token
    try:
        for n in range(3):  # each lands after the token that was current has expired
            time.sleep(2.5)
            account.append(make_mail(to="wile@acme.com", subject=f"later {n}"))
        deadline = time.monotonic() + 20
        while account.messages("INBOX") and time.monotonic() < deadline:
            time.sleep(0.3)
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=30)[0]
    assert process.returncode == 0, output
    assert not account.messages("INBOX"), output
    assert len(account.messages("Touchpoints/Logged")) == 4
    assert idp.grants["client_credentials"] >= 3, output
    troubles = [line for line in output.splitlines()
                if " ERROR " in line or " error: " in line or "refused" in line]
    assert not troubles, output
    assert_no_token(idp, output)


def test_the_idle_session_signs_in_with_oauth2_too(idp, account, tmp_path, monkeypatch):
    idp.lifetime = 60.0
    world = oauth_world(tmp_path, account, microsoft(idp, account.username, monkeypatch),
                        schedule={"interval_seconds": 600, "idle": True})
    process = world.spawn("poll")
    try:
        time.sleep(3)  # the first pass, then the IDLE session waits
        account.append(make_mail(to="wile@acme.com"))
        deadline = time.monotonic() + 20  # the interval pass is 10 minutes away: IDLE it is
        while account.messages("INBOX") and time.monotonic() < deadline:
            time.sleep(0.3)
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=30)[0]
    assert not account.messages("INBOX"), output
    assert "offers no IDLE" not in output and "refused" not in output, output


def test_a_refused_token_is_fetched_again_once(idp, account, tmp_path, monkeypatch):
    idp.lifetime = 60.0
    world = oauth_world(tmp_path, account, microsoft(idp, account.username, monkeypatch))
    world.poll()
    idp.revoke()  # the cached token is still "valid" by its expiry, but the server says no
    account.append(make_mail(to="wile@acme.com"))
    assert "logged 1" in world.poll()
    assert idp.grants["client_credentials"] == 2


def test_refused_twice_is_one_line_and_touches_nothing(idp, account, tmp_path, monkeypatch):
    world = oauth_world(tmp_path, account, microsoft(idp, account.username, monkeypatch))
    account.append(make_mail(to="wile@acme.com"))
    idp.refuse_all = True

    result = world.touchlog("poll", "--once", expect=1)
    [line] = result.output.splitlines()
    assert line.startswith(f"touchlog: imap 127.0.0.1:{account.server.port}: XOAUTH2 sign-in as "
                           f"{account.username} refused twice (token from microsoft (tenant ")
    assert line.endswith("fetched again after the first refusal): "
                         "[AUTHENTICATIONFAILED] Authentication failed."), line
    assert "Traceback" not in result.output
    [(flags, _)] = account.messages("INBOX").values()
    assert "\\Seen" not in flags and not [f for f in flags if f.startswith("$tl_")]
    [run] = json.loads(world.touchlog("runs", "--format", "json").output)
    assert "refused twice" in json.dumps(run)
    with pytest.raises(MailboxError) as info:  # what a traceback would show, were one printed
        open_mailbox(load_settings(world.config))
    assert info.value.__cause__ is None and info.value.__suppress_context__
    shown = "".join(traceback.format_exception(info.value))
    assert_no_token(idp, result.output, json.dumps(run), shown)


def test_the_providers_refusal_is_one_line_with_its_answer(idp, account, tmp_path, monkeypatch):
    world = oauth_world(tmp_path, account, microsoft(idp, account.username, monkeypatch))
    monkeypatch.setenv(SECRET_ENV, "not-the-secret")
    result = world.touchlog("poll", "--once", expect=1)
    assert result.output == (
        f"touchlog: mailbox.oauth2_provider microsoft: {idp.base_url}/{TENANT} refused the token "
        "request: invalid_client: AADSTS7000215: Invalid client secret provided.\n")
    check = world.touchlog("check", expect=1).output
    assert "imap       FAIL  mailbox.oauth2_provider microsoft:" in check
    assert "not-the-secret" not in result.output + check


def test_ca_file_wins_over_the_environment(idp, account, tmp_path, monkeypatch):
    settings = microsoft(idp, account.username, monkeypatch)
    world = oauth_world(tmp_path, account, {**settings, "ca_file": ""})
    result = world.touchlog("poll", "--once", expect=1)
    assert "its TLS certificate is not trusted (checked against the system's CAs)" in \
        result.output
    # The same environment, ca_file set: the settings win (the happy tests all run like this).
    world.write_settings(mailbox=settings)
    world.poll()


def test_google_service_account(idp, account, tmp_path):
    key_file = idp.add_service_account(tmp_path)
    world = oauth_world(tmp_path, account, {
        "auth": "oauth2", "oauth2_provider": "google", "ca_file": str(idp.ca_file),
        "oauth2_service_account_file": key_file.name})
    account.append(make_mail(to="wile@acme.com"))
    assert "logged 1" in world.poll()
    assert idp.grants["jwt_bearer"] == 1
    line = next(line for line in world.touchlog("check").output.splitlines()
                if line.startswith("imap"))
    assert "oauth2 XOAUTH2, token from google (service account touchlog-" in line
    assert " expires " in line


@pytest.mark.parametrize("source", ["command", "env", "file"])
def test_a_token_from_a_command_a_variable_or_a_file(idp, account, tmp_path, monkeypatch,
                                                     source):
    idp.lifetime = 600.0
    token = idp.issue(account.username)
    (tmp_path / "token.txt").write_text(token + "\n")
    monkeypatch.setenv(TOKEN_ENV, token)
    key, value, origin = {
        "command": ("oauth2_token_command", "cat token.txt", "command 'cat'"),
        "env": ("oauth2_token_env", TOKEN_ENV, f"${TOKEN_ENV}"),
        "file": ("oauth2_token_file", "token.txt", f"file {tmp_path / 'token.txt'}"),
    }[source]
    world = oauth_world(tmp_path, account, {"auth": "oauth2", key: value})
    account.append(make_mail(to="wile@acme.com"))
    assert "logged 1" in world.poll()
    line = next(line for line in world.touchlog("check").output.splitlines()
                if line.startswith("imap"))
    assert f"oauth2 XOAUTH2, token from {origin}, expires " in line  # read from the JWT


def test_oauthbearer_when_the_server_has_no_xoauth2(idp, tmp_path, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    with oauth2_dovecot(idp, ("oauthbearer",)) as server:
        account = new_account(server)
        world = oauth_world(tmp_path, account, microsoft(idp, account.username, monkeypatch))
        account.append(make_mail(to="wile@acme.com"))
        assert "logged 1" in world.poll()
        assert "oauth2 OAUTHBEARER, token from microsoft" in world.touchlog("check").output


def test_a_server_without_oauth2_is_one_clear_line(imap, tmp_path, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, "opaque-token-value")
    world = oauth_world(tmp_path, imap, {"auth": "oauth2", "oauth2_token_env": TOKEN_ENV})
    result = world.touchlog("poll", "--once", expect=1)
    assert result.output == (
        f"touchlog: imap 127.0.0.1:{imap.server.port}: offers neither XOAUTH2 nor OAUTHBEARER, "
        "so no OAuth2 sign-in (it offers PLAIN, LOGIN)\n")


# --- SMTP -----------------------------------------------------------------------------------


@pytest.mark.parametrize("mechanisms", [("XOAUTH2", "OAUTHBEARER"), ("OAUTHBEARER",)])
def test_notices_sign_in_to_smtp_with_oauth2(idp, imap, tmp_path, monkeypatch, mechanisms):
    sink = OAuthSmtpSink(idp, mechanisms).start()
    try:
        settings = microsoft(idp, "touchpoints@ourco.com", monkeypatch, prefix="smtp_")
        notify = {"enabled": True, "smtp_host": sink.host, "smtp_port": sink.port,
                  "smtp_tls": "none", "smtp_username": "touchpoints@ourco.com",
                  **settings}
        world = installed(tmp_path, imap)
        world.write_settings(notify=notify)
        imap.append(make_mail(to="nobody@unknown-corp.com"))
        world.poll()
        [notice] = sink.messages
        assert notice.rcpt_tos == ["sam@ourco.com"]
        assert notice.auth == "touchpoints@ourco.com"
        line = next(line for line in world.touchlog("check").output.splitlines()
                    if line.startswith("smtp"))
        assert f"ok (none), oauth2 {mechanisms[0]}, token from microsoft (tenant " in line

        idp.refuse_all = True
        imap.append(make_mail(to="nobody@unknown-corp.com", subject="Second"))
        result = world.touchlog("poll", "--once")  # the message is handled; its notice waits
        assert "failed 1 (no_account 1)" in result.output
        error = next(line for line in result.output.splitlines() if "notices:" in line)
        assert (f"smtp 127.0.0.1:{sink.port}: {mechanisms[0]} sign-in as touchpoints@ourco.com "
                "refused twice") in error
        assert "535 5.7.8 Username and Password not accepted" in error
        assert len(sink.messages) == 1
        assert_no_token(idp, result.output)
    finally:
        sink.stop()


def test_a_failing_token_command_leaves_no_token_in_the_output_or_runs(account, tmp_path):
    """SPEC 20: only the exit status and one line with anything token-like cut out."""
    world = oauth_world(tmp_path, account, {"auth": "oauth2", "oauth2_token_command": LEAKY})
    account.append(make_mail(to="wile@acme.com"))
    result = world.touchlog("-v", "poll", "--once", expect=1)
    [line] = [x for x in result.output.splitlines() if x.startswith("touchlog:")]
    assert "exit status 4" in line
    runs = world.touchlog("runs", "--format", "json").output
    assert "exit status 4" in json.loads(runs)[0]["errors"][0]
    for text in (result.output, runs):
        assert TOKEN not in text and REFRESH not in text and "second line" not in text
    assert len(account.messages("INBOX")) == 1
