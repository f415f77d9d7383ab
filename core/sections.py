"""The sections of settings.toml, one frozen dataclass each, with every key's default.

The section and key names are the interface of SPEC sections 9-19: keep them exactly.
core/settings.py reads the file into them and validates it once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class MailboxSettings:
    """SPEC 9 and 19: the shared mailbox, its folders, and how touchlog signs in to it."""

    host: str = "imap.ourco.com"
    port: int = 993
    tls: str = "ssl"
    verify_tls: bool = True
    username: str = "touchpoints@ourco.com"
    password_env: str = "TOUCHLOG_IMAP_PASSWORD"
    password_file: str = ""
    folder: str = "INBOX"
    logged_folder: str = "Touchpoints/Logged"
    failed_folder: str = "Touchpoints/Failed"
    batch_size: int = 200
    # SPEC 20: a batch is also cut by bytes, and a larger message is never fetched whole.
    batch_bytes: int = 67_108_864
    max_message_bytes: int = 26_214_400
    # Tries of a message that breaks touchlog before it fails as internal_error (SPEC 17).
    max_attempts: int = 3
    # Not in SPEC's example but needed to trust a private CA (e.g. the demo's self-signed cert).
    ca_file: str = ""
    # SPEC section 19: "oauth2" signs in with an access token (poller/net/oauth2.py).
    auth: str = "password"
    oauth2_token_command: str = ""
    oauth2_token_env: str = ""
    oauth2_token_file: str = ""
    oauth2_provider: str = ""
    oauth2_authority: str = ""
    oauth2_tenant: str = ""
    oauth2_client_id: str = ""
    oauth2_client_secret_env: str = ""
    oauth2_client_secret_file: str = ""
    oauth2_service_account_file: str = ""


@dataclass(frozen=True)
class DatabaseSettings:
    """SPEC 9 and 12: where touchpoints are kept, with their attachments and key."""

    url: str = "sqlite:///touchlog.db"
    # Where attachment bytes are kept, one file per sha256 (relative to the settings file).
    attachments_dir: str = "attachments"
    # "" = off; else a file of keys made by `touchlog keys new`, one a line (SPEC 12).
    encryption_key_file: str = ""


@dataclass(frozen=True)
class TouchpointSettings:
    """SPEC 3, 4 and 13: the mailbox's own address, the team's domains and what a touchpoint may
    hold."""

    mailbox_address: str = "touchpoints@ourco.com"
    internal_domains: tuple[str, ...] = ("ourco.com",)
    default_flow: str = "Default"
    default_reasons: tuple[str, ...] = ()
    max_content_chars: int = 20000
    case_sensitive_local_part: bool = False
    plus_addresses: str = "reject"
    personal_domains: tuple[str, ...] = ()
    domain_history_days: int = 7
    # What people may choose when they add or edit a touchpoint (SPEC 13); an empty list of
    # flows or reasons allows any value. Mail still gets `email`, default_flow, default_reasons.
    types: tuple[str, ...] = ("web_meeting", "in_person_meeting", "telephone_call", "email",
                              "internal_note")
    flows: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()

    def not_allowed(self, key: str, value: str | None) -> str | None:
        """Why `value` is not one of the configured list `key` (`types`, `flows`, `reasons`),
        or None when it is (an empty list allows any value)."""
        return not_one_of(value, getattr(self, key), f"touchpoints.{key}")


def not_one_of(value: str | None, choices: Sequence[str], key: str) -> str | None:
    """Why `value` is not one of the configured list `key`, or None when it is (or when the
    list is empty: any value)."""
    if value is None or not choices or value in choices:
        return None
    return f"{value!r} is not one of {key}: {', '.join(choices)}"


@dataclass(frozen=True)
class NotifySettings:
    """SPEC 8, 17 and 19: failure notices, the SMTP server they go through and its sign-in."""

    enabled: bool = True
    smtp_host: str = "smtp.ourco.com"
    smtp_port: int = 587
    smtp_tls: str = "starttls"
    smtp_username: str = ""
    smtp_password_env: str = ""
    smtp_password_file: str = ""
    from_address: str = "touchpoints@ourco.com"
    max_per_sender_per_hour: int = 10
    # Permanent (5xx) refusals of one notice before it is marked failed (SPEC 17).
    max_attempts: int = 5
    verify_tls: bool = True
    ca_file: str = ""
    # SPEC section 19, the [mailbox] keys with the prefix smtp_.
    smtp_auth: str = "password"
    smtp_oauth2_token_command: str = ""
    smtp_oauth2_token_env: str = ""
    smtp_oauth2_token_file: str = ""
    smtp_oauth2_provider: str = ""
    smtp_oauth2_authority: str = ""
    smtp_oauth2_tenant: str = ""
    smtp_oauth2_client_id: str = ""
    smtp_oauth2_client_secret_env: str = ""
    smtp_oauth2_client_secret_file: str = ""
    smtp_oauth2_service_account_file: str = ""


@dataclass(frozen=True)
class TrustSettings:
    """SPEC 11: whose Authentication-Results verdict counts, and what it must say."""

    authserv_ids: tuple[str, ...] = ()
    require: str = "aligned"
    # SPEC 20: mail Exchange Online stamped as sent inside this tenant is authenticated for a
    # From under touchpoints.internal_domains ("" = off; only for a mailbox in that tenant).
    microsoft365_tenant_id: str = ""


@dataclass(frozen=True)
class ScheduleSettings:
    """SPEC 9 and 16: how often `touchlog poll` runs a pass, and IDLE between passes."""

    interval_seconds: int = 60
    # SPEC 16: wait in IMAP IDLE between passes and start one within 2 s of new mail.
    idle: bool = True


@dataclass(frozen=True)
class SalesforceSettings:
    """SPEC section 15; `access_token_file`, `password_file` and `security_token_file` follow
    the *_env / *_file habit of the other secrets."""

    enabled: bool = False
    instance_url: str = "https://ourco.my.salesforce.com"
    access_token_env: str = ""
    access_token_file: str = ""
    username: str = ""
    password_env: str = ""
    password_file: str = ""
    security_token_env: str = ""
    security_token_file: str = ""
    api_version: str = "62.0"
    ca_file: str = ""
    touchpoints_object: str = "Event"
    tasks_object: str = "Task"
    external_id_field: str = "Touchlog_Id__c"
    inbound_filter: str = ""
    create_missing: bool = True
    outbound_days: int = 30
    interval_seconds: int = 300


@dataclass(frozen=True)
class WebSettings:
    """SPEC 21: `touchlog serve`, the web app over the same database and rules as the CLI.
    `oidc_client_secret_file` and `metrics_token_file` follow the *_env / *_file habit."""

    listen: str = "127.0.0.1:8765"
    base_url: str = "http://127.0.0.1:8765"
    session_hours: int = 8
    sign_in: tuple[str, ...] = ("email",)
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret_env: str = ""
    oidc_client_secret_file: str = ""
    oidc_ca_file: str = ""
    metrics_token_env: str = ""
    metrics_token_file: str = ""
    # Not in SPEC: the proxies whose X-Forwarded-For names the client (the audit trail's client
    # address, the sign-in rate limits); with none, the client is the connection's address.
    trusted_proxies: tuple[str, ...] = ()
