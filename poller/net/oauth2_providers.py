"""touchlog's own token providers (SPEC section 19): Microsoft 365 client credentials (MSAL) and
a Google service account with domain-wide delegation (google-auth).

Both libraries are imported only here and only when a token is needed: `poll --once` on an
empty inbox must not pay for them. Their HTTP goes through poller.net.https.CaSession, with the
section's `ca_file`/`verify_tls`, so the settings win over REQUESTS_CA_BUNDLE.
"""

from __future__ import annotations

import json
import time
from datetime import UTC
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from core.errors import ConfigError, TokenError
from core.oauth2_config import OAuth2Config
from core.secrets import read_secret
from poller.net.secrets import first_line, keep_secret

if TYPE_CHECKING:
    from poller.net.https import CaSession

# Exchange Online's resource, for IMAP.AccessAsApp and SMTP.SendAsApp alike.
MICROSOFT_SCOPE = "https://outlook.office365.com/.default"
MICROSOFT_LOGIN = "https://login.microsoftonline.com"
GOOGLE_SCOPE = "https://mail.google.com/"
HTTP_TIMEOUT = 30.0

ProviderToken = tuple[str, float | None, str]  # token, expiry (epoch seconds), its origin


def fetch_from_provider(config: OAuth2Config) -> ProviderToken:
    if config.provider == "microsoft":
        return _microsoft(config)
    return _google(config)


def microsoft_authority(config: OAuth2Config) -> str:
    """oauth2_authority as given, with the tenant appended when it names only a host
    (e.g. https://login.microsoftonline.us for a national cloud)."""
    authority = (config.authority or MICROSOFT_LOGIN).rstrip("/")
    if urlparse(authority).path in ("", "/"):
        authority = f"{authority}/{config.tenant}"
    return authority


def _microsoft(config: OAuth2Config) -> ProviderToken:
    import msal
    import requests

    key = config.key + "oauth2_provider"
    authority = microsoft_authority(config)
    secret = _client_secret(config)
    session = _session(config)
    try:
        # A new app every time: MSAL's own cache would hand back a token the server just
        # refused; poller/net/oauth2.py caches instead. No instance discovery: it would ask
        # login.microsoftonline.com about any other authority host.
        app = msal.ConfidentialClientApplication(
            config.client_id, client_credential=secret, authority=authority,
            http_client=session, instance_discovery=False)
        result = app.acquire_token_for_client(scopes=[MICROSOFT_SCOPE])
    except ValueError as exc:  # MSAL's word for "the authority's metadata could not be read"
        raise TokenError(f"{key} microsoft: {authority}: {first_line(str(exc))}") from None
    except requests.RequestException as exc:
        raise TokenError(f"{key} microsoft: cannot reach {authority}: "
                         f"{_http_reason(exc, config)}") from None
    finally:
        session.close()
    if "access_token" not in result:
        answer = ": ".join(filter(None, (result.get("error"),
                                         first_line(result.get("error_description", "")))))
        raise TokenError(f"{key} microsoft: {authority} refused the token request: "
                         f"{answer or 'no reason given'}")
    token = str(result["access_token"])
    keep_secret(token)
    expires_in = result.get("expires_in")
    expires_at = time.time() + float(expires_in) if expires_in else None
    return token, expires_at, (f"microsoft (tenant {config.tenant or authority}, "
                               f"client {config.client_id})")


def _google(config: OAuth2Config) -> ProviderToken:
    import requests
    from google.auth import exceptions
    from google.auth.transport.requests import Request
    from google.oauth2 import service_account

    key = config.key + "oauth2_service_account_file"
    path = config.path(config.service_account_file)
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        # The mailbox is the subject: domain-wide delegation lets the account act as it.
        credentials = service_account.Credentials.from_service_account_info(
            info, scopes=[GOOGLE_SCOPE], subject=config.username)
    except OSError as exc:
        raise TokenError(f"{key}: cannot read {path}: {exc.strerror}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise TokenError(f"{key}: {path} is not a service account key file: "
                         f"{first_line(str(exc))}") from None
    token_uri = info.get("token_uri", "")
    session = _session(config)
    try:
        credentials.refresh(Request(session=session))
    except exceptions.RefreshError as exc:
        raise TokenError(f"{config.key}oauth2_provider google: {token_uri} refused the token "
                         f"request for {config.username}: {first_line(str(exc.args[0]))}"
                         ) from None
    except (exceptions.TransportError, requests.RequestException) as exc:
        raise TokenError(f"{config.key}oauth2_provider google: cannot reach {token_uri}: "
                         f"{_http_reason(exc, config)}") from None
    finally:
        session.close()
    token = str(credentials.token)
    keep_secret(token)
    expiry = credentials.expiry  # naive UTC
    expires_at = expiry.replace(tzinfo=UTC).timestamp() if expiry else None
    return token, expires_at, f"google (service account {info.get('client_email', path)})"


def _client_secret(config: OAuth2Config) -> str:
    try:
        secret = read_secret(config.key + "oauth2_client_secret", config.client_secret_env,
                             config.client_secret_file, config.base_dir)
    except ConfigError as exc:  # a token's trouble: on the SMTP side notices stay pending
        raise TokenError(str(exc)) from None
    keep_secret(secret)
    return secret


def _session(config: OAuth2Config) -> CaSession:
    from poller.net.https import CaSession

    return CaSession(config.ca_file, config.verify_tls, HTTP_TIMEOUT)


def _http_reason(exc: Exception, config: OAuth2Config) -> str:
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        trusted = config.ca_file or "the system's CAs"
        return f"its TLS certificate is not trusted (checked against {trusted})"
    if "Connection refused" in text:
        return "connection refused"
    if "timed out" in text.lower():
        return "timed out"
    return first_line(f"{type(exc).__name__}: {text}")[:200]
