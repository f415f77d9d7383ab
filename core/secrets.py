"""Secrets never sit in the settings file (SPEC 9): a `*_file` key names a file holding one, a
`*_env` key an environment variable. Read here, once, for every kind of secret."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import unquote

from core.errors import ConfigError


def read_secret(key: str, env_name: str, file_name: str, base_dir: Path) -> str:
    """A secret named by `key` (salesforce.access_token): its *_file wins over its *_env."""
    if file_name:
        path = base_dir / file_name
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{key}_file: cannot read {path}: {exc.strerror}") from None
    if env_name:
        value = os.environ.get(env_name)
        if value is None:
            raise ConfigError(f"{key}_env: environment variable {env_name} is not set")
        return value
    return ""


def section_password(key: str, env_name: str, file_name: str, base_dir: Path) -> str:
    """The password of `key`'s section (`mailbox.`, `notify.smtp_`)."""
    return read_secret(f"{key}password", env_name, file_name, base_dir)


# The query parameters a PostgreSQL URL may carry a password in (libpq's names).
_URL_PASSWORD = re.compile(r"(?i)([?&](?:password|passwd|sslpassword)=)[^&#]*")


def redact_url(url: str) -> str:
    """`url` as touchlog shows it anywhere (check, error lines, logs, runs): a password in it,
    after the user name or as `?password=`, is `***` (SPEC 20)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    head, query_sep, query = rest.partition("?")
    # The last "@" before the query ends the user part: a password may hold an unescaped "@".
    creds, at, host = head.rpartition("@")
    if at and ":" in creds:
        head = f"{creds.split(':', 1)[0]}:***@{host}"
    return f"{scheme}://{head}" + _URL_PASSWORD.sub(r"\1***", query_sep + query)


def url_passwords(url: str) -> list[str]:
    """The passwords written in `url`, as written and percent-decoded: what a driver's error
    may quote back (four characters or more, so a short one never mangles a whole line)."""
    _, _, rest = url.partition("://")
    head, _, query = rest.partition("?")
    creds, at, _ = head.rpartition("@")
    found = [creds.split(":", 1)[1]] if at and ":" in creds else []
    found += [m.group(0).split("=", 1)[1] for m in _URL_PASSWORD.finditer("?" + query)]
    found += [unquote(p) for p in found]
    return [p for p in dict.fromkeys(found) if len(p) >= 4]


def without_url_password(text: str, url: str) -> str:
    for password in url_passwords(url):
        text = text.replace(password, "***")
    return text
