"""Keeping tokens and client secrets out of every line touchlog writes: each secret is
remembered once, and masked in error text and in every log record, whichever library wrote it.
"""

from __future__ import annotations

import logging
import re

_secrets: set[str] = set()


def keep_secret(value: str) -> None:
    """Remember a token or client secret, and make sure log handlers mask it."""
    if len(value) >= 8:
        _secrets.add(value)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, _Redactor) for f in handler.filters):
            handler.addFilter(_Redactor())


def redact(text: str) -> str:
    for secret in _secrets:
        text = text.replace(secret, "[redacted]")
    return text


# Runs of the characters tokens, keys and secrets are written in (base64, base64url, hex, a
# JWT's dots): 32 or more, or 16 or more with a digit (an error code such as
# "unauthorized_client" stays readable); and whatever follows "token:", "password=", "Bearer".
_TOKEN_LIKE = re.compile(r"[A-Za-z0-9+/=_.~-]{32,}|(?=[A-Za-z0-9+/=_.~-]*[0-9])"
                         r"[A-Za-z0-9+/=_.~-]{16,}")
_ASSIGNED = re.compile(r"(?i)\b(bearer\s+|(?:access_token|refresh_token|token|secret|"
                       r"password|passwd|pwd|key)\s*[:=]\s*)\S+")


def tokenless(text: str) -> str:
    """`text` with anything that may be a token replaced by `…`."""
    return _TOKEN_LIKE.sub("…", _ASSIGNED.sub(lambda m: m.group(1) + "…", text))


class _Redactor(logging.Filter):
    """Masks every known secret in a record, whichever library logged it (MSAL, urllib3 at
    -vv): a token in a shared log is as good as the password."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            if redact(str(exc)) != str(exc):
                record.exc_info, record.exc_text = None, None
                record.msg = f"{record.msg} [exception text withheld: it held a secret]"
        return True


def first_line(text: str) -> str:
    """The first line with words on it: what an error says, without the trace under it."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")
