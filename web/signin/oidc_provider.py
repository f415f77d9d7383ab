"""The OpenID provider as touchlog talks to it (SPEC 21): its discovery document, its published
keys and its token endpoint.

HTTPS only, and no redirect followed (a redirect could lead to plain HTTP). `web.oidc_ca_file`,
when set, is passed with every request: requests lets REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE from
the environment override a session's own `verify`, and the settings must win (as in
poller/net/oauth2_providers.py). Every failure to reach the provider is one SignInRefused whose
text names the issuer and the reason, never a traceback.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from core.errors import SignInRefused

log = logging.getLogger(__name__)

DISCOVERY_PATH = "/.well-known/openid-configuration"
HTTP_TIMEOUT = 10.0
# Endpoints rarely move; keys rotate, and an unknown key id fetches them again (keys(fresh=True)).
METADATA_SECONDS = 3600.0
# The provider's documents are small (Google's JWKS is ~1 KB); a bigger answer is not one.
MAX_DOCUMENT_BYTES = 1_000_000


@dataclass(frozen=True)
class Metadata:
    """What touchlog needs from the discovery document."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    auth_method: str  # client_secret_basic or client_secret_post


class Provider:
    """One issuer, shared by every request of the web app: the metadata and keys are cached
    behind a lock, and each exchange gets a session of its own (requests' sessions are not
    meant to be shared between threads)."""

    def __init__(self, issuer: str, ca_file: str = "",
                 clock: Callable[[], float] = time.time) -> None:
        self.issuer = issuer
        self.ca_file = ca_file
        self._clock = clock
        self._lock = threading.Lock()
        self._metadata: Metadata | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None

    def metadata(self) -> Metadata:
        with self._lock:
            if self._metadata is None or self._clock() - self._metadata_at > METADATA_SECONDS:
                self._metadata = self._discover()
                self._metadata_at = self._clock()
            return self._metadata

    def keys(self, fresh: bool = False) -> KeySet:
        """The issuer's published signing keys; `fresh` reads them again (a token named a key id
        the cached set lacks: the provider rotated its keys)."""
        jwks_uri = self.metadata().jwks_uri
        with self._lock:
            if self._keys is None or fresh:
                document = self._get_json(jwks_uri, "its signing keys (jwks_uri)")
                try:
                    self._keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
                except (JoseError, KeyError, TypeError, ValueError) as exc:
                    log.warning("oidc: %s: unreadable JWKS: %s", jwks_uri, exc)
                    raise SignInRefused(f"The sign-in provider ({self.issuer}) published signing "
                                        "keys touchlog cannot read; try again later.") from None
            return self._keys

    def session(self, client_id: str, client_secret: str, redirect_uri: str) -> OAuth2Session:
        """An Authlib OAuth2 session for one sign-in: PKCE S256, openid email profile."""
        return _Session(self.ca_file, client_id=client_id, client_secret=client_secret,
                        token_endpoint_auth_method=self.metadata().auth_method,
                        code_challenge_method="S256", scope="openid email profile",
                        redirect_uri=redirect_uri)

    def unreachable(self, exc: Exception) -> SignInRefused:
        """The refusal for a provider that did not answer (or not over trusted HTTPS)."""
        log.warning("oidc: %s: %s: %s", self.issuer, type(exc).__name__, exc)
        return SignInRefused(f"The sign-in provider cannot be reached ({self.issuer}: "
                             f"{self._http_reason(exc)}); try again later.")

    # --- discovery ------------------------------------------------------------------------------

    def _discover(self) -> Metadata:
        url = self.issuer.rstrip("/") + DISCOVERY_PATH
        document = self._get_json(url, "its discovery document")
        if document.get("issuer") != self.issuer:
            # OpenID Connect Discovery 1.0 section 4.3: the issuer must be exactly the one asked.
            raise self._misconfigured(f"its discovery document names the issuer "
                                      f"{str(document.get('issuer'))[:200]!r}, not "
                                      f"web.oidc_issuer {self.issuer!r}")
        endpoints = {}
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            value = document.get(name)
            if not isinstance(value, str) or not value.startswith("https://"):
                raise self._misconfigured(f"its discovery document has no https {name}")
            endpoints[name] = value
        # RFC 8414: client_secret_basic is the default when the provider lists no methods.
        methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        method = "client_secret_basic" if "client_secret_basic" in methods else "client_secret_post"
        return Metadata(issuer=self.issuer, auth_method=method, **endpoints)

    def _misconfigured(self, why: str) -> SignInRefused:
        log.warning("oidc: %s: %s", self.issuer, why)
        return SignInRefused(f"Sign-in by OIDC is misconfigured: {why}.")

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        with requests.Session() as session:
            try:
                response = session.get(url, verify=self.ca_file or True, timeout=HTTP_TIMEOUT,
                                       allow_redirects=False, stream=True)
                body = response.raw.read(MAX_DOCUMENT_BYTES + 1, decode_content=True)
            except requests.RequestException as exc:
                raise self.unreachable(exc) from None
        if response.status_code != 200 or len(body) > MAX_DOCUMENT_BYTES:
            log.warning("oidc: %s answered HTTP %s", url, response.status_code)
            raise SignInRefused(f"The sign-in provider ({self.issuer}) did not give {what} "
                                f"(HTTP {response.status_code}); try again later.")
        try:
            document = json.loads(body)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise SignInRefused(f"The sign-in provider ({self.issuer}) gave {what} that is "
                                "not JSON; try again later.")
        return document

    def _http_reason(self, exc: Exception) -> str:
        text = str(exc)
        if "CERTIFICATE_VERIFY_FAILED" in text:
            trusted = self.ca_file or "the system's CAs"
            return f"its TLS certificate is not trusted (checked against {trusted})"
        if isinstance(exc, requests.HTTPError) and exc.response is not None:
            return f"HTTP {exc.response.status_code}"
        if "Connection refused" in text:
            return "connection refused"
        if "timed out" in text.lower():
            return "timed out"
        return type(exc).__name__


class _Session(OAuth2Session):
    """Authlib's requests session with the CA file given on every request (so the environment's
    CA bundle cannot replace it), a timeout, and redirects never followed."""

    def __init__(self, ca_file: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._verify: bool | str = ca_file or True

    def request(self, method: str, url: str, withhold_token: bool = False,
                auth: Any = None, **kwargs: Any) -> requests.Response:
        kwargs["verify"] = self._verify
        kwargs["allow_redirects"] = False
        kwargs.setdefault("timeout", HTTP_TIMEOUT)
        return super().request(method, url, withhold_token=withhold_token, auth=auth, **kwargs)
