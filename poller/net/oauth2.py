"""OAuth2 access tokens for IMAP and SMTP (SPEC section 19): where a token comes from, when it is
fetched again (keeping it out of every line touchlog writes is poller.net.secrets).

One `TokenSession` per configured source lives as long as the process, so a long `touchlog poll`
reuses a token across passes and fetches a new one shortly before it expires (or once after the
server refused it: see poller/net/sasl.py). A token whose expiry cannot be known (an opaque one
from a command, a variable or a file) is read again at every sign-in, as mbsync's PassCmd is.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from core.errors import ConfigError, TokenError
from core.oauth2_config import OAuth2Config
from core.secrets import read_secret
from poller.net.secrets import first_line, keep_secret, redact, tokenless

# Fetch again when less than this is left (a quarter of the lifetime for short-lived tokens).
REFRESH_MARGIN = 300.0
COMMAND_TIMEOUT = 60.0


@dataclass(frozen=True)
class Token:
    value: str = field(repr=False)  # never in a repr, so never in a traceback's locals dump
    expires_at: float | None  # seconds since the epoch; None when the source does not say
    origin: str  # where it came from, in words, for `touchlog check` and error lines
    fetched_at: float = field(default_factory=time.time)

    def usable(self, now: float) -> bool:
        if self.expires_at is None:
            return False
        margin = min(REFRESH_MARGIN, (self.expires_at - self.fetched_at) / 4)
        return now < self.expires_at - margin

    def expiry(self, now: float | None = None) -> str:
        if self.expires_at is None:
            return "expiry unknown (read again at every sign-in)"
        left = self.expires_at - (time.time() if now is None else now)
        stamp = datetime.fromtimestamp(self.expires_at, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        return f"expires {stamp} (in {_duration(left)})" if left > 0 else f"expired {stamp}"


class TokenSession:
    """The current token of one source: `token()` for a sign-in, `renew()` after a refusal."""

    def __init__(self, config: OAuth2Config) -> None:
        self.config = config
        self._token: Token | None = None
        self._lock = threading.Lock()

    def token(self) -> Token:
        with self._lock:
            if self._token is None or not self._token.usable(time.time()):
                self._token = self._fetch()
            return self._token

    def renew(self) -> Token:
        with self._lock:
            self._token = self._fetch()
            return self._token

    def _fetch(self) -> Token:
        c = self.config
        if c.provider:
            from poller.net.oauth2_providers import fetch_from_provider

            value, expires_at, origin = fetch_from_provider(c)
        elif c.token_command:
            value, expires_at = _from_command(c)
            origin = f"command {c.token_command.split()[0]!r}"
        else:
            value, expires_at = _parsed(*_from_env_or_file(c))
            origin = f"file {c.path(c.token_file)}" if c.token_file else f"${c.token_env}"
        keep_secret(value)
        return Token(value, expires_at, origin)


_sessions: dict[OAuth2Config, TokenSession] = {}
_sessions_lock = threading.Lock()


def session_for(config: OAuth2Config) -> TokenSession:
    with _sessions_lock:
        return _sessions.setdefault(config, TokenSession(config))


# --- token sources ----------------------------------------------------------------------------


def _from_command(c: OAuth2Config) -> tuple[str, float | None]:
    key = c.key + "oauth2_token_command"
    status, out, err = _run_command(c.token_command, str(c.base_dir), key)
    if status != 0:
        # What a failing helper prints may be the token, a refresh token or a secret (SPEC 20):
        # only its exit status and one line, with anything token-like cut out, go further.
        said = first_line(err) or first_line(out)
        line = f": {tokenless(redact(said))[:200]}" if said else ""
        raise TokenError(f"{key}: the command failed (exit status {status}){line}")
    return _parsed(out, key)


def _run_command(command: str, cwd: str, key: str) -> tuple[int, str, str]:
    """Through the shell, like mbsync's PassCmd: pipes and quoting work as users expect. In a
    session of its own, so a command past its timeout is killed with every process it started
    (a helper's hung child would otherwise outlive touchlog, holding whatever it holds)."""
    try:
        proc = subprocess.Popen(command, shell=True, cwd=cwd, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                encoding="utf-8", errors="replace", start_new_session=True)
    except OSError as exc:
        raise TokenError(f"{key}: cannot run it: {exc.strerror}") from None
    try:
        out, err = proc.communicate(timeout=COMMAND_TIMEOUT)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise TokenError(f"{key}: the command did not finish in {COMMAND_TIMEOUT:g}s; it "
                         "was stopped with every process it started") from None
    return proc.returncode, out, err


def _kill_group(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:  # a child that left the session may still hold the other end
            stream.close()


def _from_env_or_file(c: OAuth2Config) -> tuple[str, str]:
    """(the token text, the key it came by), read again at every sign-in: a token helper keeps
    the variable or file fresh."""
    key = c.key + "oauth2_token"
    try:
        return read_secret(key, c.token_env, c.token_file, c.base_dir), key + (
            "_file" if c.token_file else "_env")
    except ConfigError as exc:  # a token's trouble: on the SMTP side notices stay pending
        raise TokenError(str(exc)) from None


def _parsed(text: str, key: str) -> tuple[str, float | None]:
    """A bare token (its expiry read from it when it is a JWT), or a JSON token response
    ({"access_token": ..., "expires_in": ...}) as token helpers print."""
    text = text.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
            value, expires_in = str(data["access_token"]), data.get("expires_in")
        except (ValueError, KeyError, TypeError):
            raise TokenError(f"{key}: JSON without an access_token") from None
        keep_secret(value)
        return value, (time.time() + float(expires_in) if expires_in else jwt_expiry(value))
    value = text.splitlines()[0].strip() if text else ""
    if not value:
        raise TokenError(f"{key}: no token (the value is empty)")
    return value, jwt_expiry(value)


def jwt_expiry(token: str) -> float | None:
    """The `exp` claim of a JWT, unverified (the server verifies it; we only need the time)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        return float(payload["exp"])
    except (ValueError, KeyError, TypeError):
        return None


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
