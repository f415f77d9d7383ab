"""The OAuth2 keys of [mailbox] and [notify] (SPEC section 19): checked when settings load, and
gathered into one `OAuth2Config` for the token code (poller.net.oauth2).

The same keys sit in both sections, in [notify] with the prefix `smtp_`; every message names the
key as the user wrote it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import ConfigError
from core.sections import MailboxSettings, NotifySettings

# Where an OAuth2 token comes from: exactly one of these when auth = "oauth2".
OAUTH2_SOURCES = ("oauth2_token_command", "oauth2_token_env", "oauth2_token_file",
                  "oauth2_provider")


def check_oauth2_keys(section: str, prefix: str, values: Any, source: str) -> None:
    """auth = "oauth2" needs one token source, and a provider its own keys; oauth2 keys under
    auth = "password" would be silently unused, so they are an error too."""
    def key(name: str) -> str:
        return f"{section}.{prefix}{name}"

    def value(name: str) -> str:
        return str(getattr(values, prefix + name))

    given = [name for name in OAUTH2_SOURCES if value(name)]
    if value("auth") != "oauth2":
        if given:
            raise ConfigError(f"{source}: {key(given[0])} is set but {key('auth')} is "
                              f"{value('auth')!r}: set {key('auth')} = \"oauth2\"")
        return
    if len(given) != 1:
        raise ConfigError(f"{source}: {key('auth')} = \"oauth2\" needs exactly one of "
                          + ", ".join(key(n) for n in OAUTH2_SOURCES)
                          + (f" (given: {', '.join(key(n) for n in given)})" if given else ""))
    if prefix and not values.smtp_username:
        raise ConfigError(f"{source}: {key('auth')} = \"oauth2\" needs notify.smtp_username "
                          "(the mailbox the token signs in as)")
    needed = {"microsoft": ("oauth2_client_id",), "google": ("oauth2_service_account_file",)}
    for name in needed.get(value("oauth2_provider"), ()):
        if not value(name):
            raise ConfigError(f"{source}: {key('oauth2_provider')} = "
                              f"{value('oauth2_provider')!r} needs {key(name)}")
    if value("oauth2_provider") == "microsoft":
        if not value("oauth2_tenant") and not value("oauth2_authority"):
            raise ConfigError(f"{source}: {key('oauth2_provider')} = \"microsoft\" needs "
                              f"{key('oauth2_tenant')} (or {key('oauth2_authority')})")
        if bool(value("oauth2_client_secret_env")) == bool(value("oauth2_client_secret_file")):
            raise ConfigError(f"{source}: {key('oauth2_provider')} = \"microsoft\" needs one "
                              f"of {key('oauth2_client_secret_env')} or "
                              f"{key('oauth2_client_secret_file')}")


@dataclass(frozen=True)
class OAuth2Config:
    """One section's OAuth2 keys, without their prefix; `key` is that prefix for messages
    ("mailbox." or "notify.smtp_")."""

    key: str
    username: str
    token_command: str
    token_env: str
    token_file: str
    provider: str
    authority: str
    tenant: str
    client_id: str
    client_secret_env: str
    client_secret_file: str
    service_account_file: str
    ca_file: str
    verify_tls: bool
    base_dir: Path

    def path(self, name: str) -> Path:
        return self.base_dir / name


def imap_config(mb: MailboxSettings, base_dir: Path) -> OAuth2Config:
    """[mailbox]'s OAuth2 keys; `base_dir` is where relative file names in them start."""
    return _config("mailbox.", "", mb, mb.username, mb.ca_file, mb.verify_tls, base_dir)


def smtp_config(n: NotifySettings, base_dir: Path) -> OAuth2Config:
    """[notify]'s OAuth2 keys (`smtp_oauth2_…`)."""
    return _config("notify.smtp_", "smtp_", n, n.smtp_username, n.ca_file, n.verify_tls, base_dir)


def _config(key: str, prefix: str, section: Any, username: str, ca_file: str, verify: bool,
            base_dir: Path) -> OAuth2Config:
    names = ("token_command", "token_env", "token_file", "provider", "authority", "tenant",
             "client_id", "client_secret_env", "client_secret_file", "service_account_file")
    values = {name: getattr(section, f"{prefix}oauth2_{name}") for name in names}
    return OAuth2Config(key=key, username=username, ca_file=ca_file, verify_tls=verify,
                        base_dir=base_dir, **values)
