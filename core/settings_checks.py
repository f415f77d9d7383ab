"""What a settings value may be, beyond its type: choices, bounds, and the rules that tie keys
together (loopback-only plain connections, three different folders, Salesforce names). Each
error names the key, as the user wrote it."""

from __future__ import annotations

import re
from typing import Any, Protocol

from core.errors import ConfigError
from core.oauth2_config import check_oauth2_keys
from core.secrets import redact_url
from core.sections import (
    DatabaseSettings,
    MailboxSettings,
    NotifySettings,
    SalesforceSettings,
    TouchpointSettings,
    TrustSettings,
    WebSettings,
)


class Sections(Protocol):
    """The sections the cross-key rules read (core.settings.Settings has them all)."""

    @property
    def mailbox(self) -> MailboxSettings: ...
    @property
    def notify(self) -> NotifySettings: ...
    @property
    def database(self) -> DatabaseSettings: ...
    @property
    def touchpoints(self) -> TouchpointSettings: ...
    @property
    def salesforce(self) -> SalesforceSettings: ...
    @property
    def web(self) -> WebSettings: ...
    @property
    def trust(self) -> TrustSettings: ...

CHOICES = {
    ("mailbox", "tls"): ("ssl", "starttls", "none"),
    ("notify", "smtp_tls"): ("ssl", "starttls", "none"),
    ("touchpoints", "plus_addresses"): ("reject", "strip"),
    ("mailbox", "auth"): ("password", "oauth2"),
    ("notify", "smtp_auth"): ("password", "oauth2"),
    ("mailbox", "oauth2_provider"): ("", "microsoft", "google"),
    ("notify", "smtp_oauth2_provider"): ("", "microsoft", "google"),
    ("trust", "require"): ("aligned", "none"),
}


# (lowest, highest or None) of every whole-number key that has bounds.
_PORT = (1, 65535)


BOUNDS: dict[tuple[str, str], tuple[int, int | None]] = {
    ("mailbox", "port"): _PORT, ("notify", "smtp_port"): _PORT,
    ("mailbox", "batch_size"): (1, None), ("mailbox", "batch_bytes"): (1, None),
    ("mailbox", "max_message_bytes"): (1, None), ("touchpoints", "max_content_chars"): (1, None),
    ("mailbox", "max_attempts"): (1, None), ("notify", "max_attempts"): (1, None),
    ("schedule", "interval_seconds"): (1, None), ("web", "session_hours"): (1, None),
    ("touchpoints", "domain_history_days"): (0, None),
    ("notify", "max_per_sender_per_hour"): (0, None),
    ("salesforce", "outbound_days"): (1, None), ("salesforce", "interval_seconds"): (1, None),
}


def check_value(section: str, key: str, value: Any, source: str) -> None:
    choices = CHOICES.get((section, key))
    if choices and value not in choices:
        raise ConfigError(f"{source}: {section}.{key} must be one of "
                          f"{', '.join(repr(c) for c in choices)}, not {value!r}")
    bounds = BOUNDS.get((section, key))
    if bounds is None:
        return
    low, high = bounds
    if high is not None and not low <= value <= high:
        raise ConfigError(f"{source}: {section}.{key} must be from {low} to {high}, not {value}")
    if value < low:
        raise ConfigError(f"{source}: {section}.{key} must be "
                          f"{'above 0' if low == 1 else 'not negative'}, not {value}")


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def check_cross_keys(settings: Sections, source: str) -> None:
    mb, notify = settings.mailbox, settings.notify
    # Plain text on the wire carries the password (or token) and every message: loopback only.
    if mb.tls == "none" and mb.host not in LOOPBACK:
        raise ConfigError(f"{source}: mailbox.tls = \"none\" is allowed only for a loopback "
                          f"host, not {mb.host!r}")
    if notify.smtp_tls == "none" and notify.smtp_host not in LOOPBACK:
        raise ConfigError(f"{source}: notify.smtp_tls = \"none\" is allowed only for a "
                          f"loopback host, not {notify.smtp_host!r}")
    _check_folders_differ(mb, source)
    check_oauth2_keys("mailbox", "", mb, source)
    check_oauth2_keys("notify", "smtp_", settings.notify, source)
    _check_salesforce(settings.salesforce, source)
    _check_web(settings.web, source)
    url = settings.database.url
    if not url.startswith(("sqlite:///", "postgresql://", "postgres://")):
        raise ConfigError(f"{source}: database.url must start with sqlite:/// or "
                          f"postgresql://, not {redact_url(url)!r}")
    if not settings.touchpoints.types:
        raise ConfigError(f"{source}: touchpoints.types must name at least one type")
    tenant = settings.trust.microsoft365_tenant_id
    if tenant and not _GUID.fullmatch(tenant.strip()):
        # A typo would never match Exchange's stamp: every seller's copy would fail, silently.
        raise ConfigError(f"{source}: trust.microsoft365_tenant_id must be the tenant's id, a "
                          f"GUID like 72f988bf-86f1-41af-91ab-2d7cd011db47, not {tenant!r}")


_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def _check_folders_differ(mb: MailboxSettings, source: str) -> None:
    """Inbox, logged and failed folder are three folders: moving a message into the folder it
    was read from (or logged and failed mail into one) would lose the outcome."""
    keys = ("folder", "logged_folder", "failed_folder")
    seen: dict[str, str] = {}
    for key in keys:
        name = getattr(mb, key).strip("/")
        # INBOX is case-insensitive in IMAP (RFC 3501 5.1); other names are not.
        same = name.upper() if name.upper() == "INBOX" else name
        if same in seen:
            raise ConfigError(f"{source}: mailbox.{key} must differ from mailbox.{seen[same]} "
                              f"(both are {getattr(mb, key)!r})")
        seen[same] = key


_SF_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def _check_salesforce(sf: SalesforceSettings, source: str) -> None:
    if not sf.instance_url.startswith("https://"):
        raise ConfigError(f"{source}: salesforce.instance_url must start with https://, "
                          f"not {sf.instance_url!r}")
    if not re.fullmatch(r"\d+\.0", sf.api_version):
        raise ConfigError(f"{source}: salesforce.api_version must look like \"62.0\", "
                          f"not {sf.api_version!r}")
    for key in ("touchpoints_object", "tasks_object", "external_id_field"):
        if not _SF_NAME.fullmatch(getattr(sf, key)):
            raise ConfigError(f"{source}: salesforce.{key} must be a Salesforce API name, "
                              f"not {getattr(sf, key)!r}")
    login = sf.username or sf.password_env or sf.password_file
    if sf.enabled and not (sf.access_token_env or sf.access_token_file or login):
        raise ConfigError(f"{source}: salesforce.enabled needs access_token_env (or "
                          "access_token_file), or username with password_env and "
                          "security_token_env")


SIGN_IN_WAYS = ("email", "oidc")


def split_listen(text: str) -> tuple[str, int] | None:
    """`HOST:PORT` (an IPv6 host in brackets: `[::1]:8765`) → (host, port); None if it is not
    one."""
    host, colon, port = text.rpartition(":")
    if not colon or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        return None
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return (host, int(port)) if host else None


def _check_web(web: WebSettings, source: str) -> None:
    if split_listen(web.listen) is None:
        raise ConfigError(f"{source}: web.listen must be HOST:PORT, not {web.listen!r}")
    for proxy in web.trusted_proxies:
        import ipaddress  # only then: every command's start pays for what it imports

        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise ConfigError(f"{source}: web.trusted_proxies: {proxy!r} is not an IP address "
                              "or network") from None
    if not web.base_url.startswith(("http://", "https://")):
        raise ConfigError(f"{source}: web.base_url must start with http:// or https://, "
                          f"not {web.base_url!r}")
    unknown = [way for way in web.sign_in if way not in SIGN_IN_WAYS]
    if unknown or not web.sign_in:
        raise ConfigError(f"{source}: web.sign_in must list one or more of "
                          f"{', '.join(repr(w) for w in SIGN_IN_WAYS)}, not {list(web.sign_in)!r}")
    if "oidc" in web.sign_in:
        for key in ("oidc_issuer", "oidc_client_id"):
            if not getattr(web, key):
                raise ConfigError(f"{source}: web.sign_in has \"oidc\", which needs web.{key}")
        if not (web.oidc_client_secret_env or web.oidc_client_secret_file):
            raise ConfigError(f"{source}: web.sign_in has \"oidc\", which needs "
                              "web.oidc_client_secret_env (or oidc_client_secret_file)")
        if not web.oidc_issuer.startswith("https://"):
            raise ConfigError(f"{source}: web.oidc_issuer must start with https://, "
                              f"not {web.oidc_issuer!r}")
