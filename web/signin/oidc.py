"""Sign-in by OpenID Connect (SPEC 21): the authorization-code flow with PKCE (S256), `state`
and `nonce`, framework-free so it is tested without the web app. The two routes call it:

    GET /login/oidc           url, pending = client.begin(BASE_URL + "/login/oidc/callback");
                              keep `pending` in the session; redirect to `url`
    GET /login/oidc/callback  address = client.finish(request.args, pending, same redirect URI);
                              drop `pending` from the session, start the member's session.
                              SignInRefused: the login page with its text, status 403.

Build one OidcClient when the app starts (it caches the provider's metadata and keys, and a
missing client secret is a ConfigError naming the key then, not at the first sign-in). `finish`
reads the team, so the database must be open.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
from authlib.integrations.base_client import OAuthError

from core.errors import ConfigError, SignInRefused
from core.settings import Settings
from store.directory.lookups import SqlDirectory
from web.signin.oidc_provider import Provider
from web.signin.oidc_token import REFUSED, Expected, provider_kind, token_address, verified_claims

log = logging.getLogger(__name__)

# The time a person may spend on the provider's pages before the sign-in must start again.
PENDING_SECONDS = 600
# An OAuth error code is a short word (RFC 6749 4.1.2.1); anything else in `error` is not shown.
_ERROR_CODE = re.compile(r"[a-z_]{1,64}")


class OidcClient:
    """Sign-in against `web.oidc_issuer` as `web.oidc_client_id`."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        web = settings.web
        self.client_id = web.oidc_client_id
        self._secret = settings.web_secret("oidc_client_secret")
        if not self._secret:
            raise ConfigError("web.oidc_client_secret_env (or oidc_client_secret_file) must "
                              "name a client secret for sign-in by OIDC")
        self.provider = Provider(web.oidc_issuer, web.oidc_ca_file, clock)
        self.kind = provider_kind(web.oidc_issuer)
        self._clock = clock

    def begin(self, redirect_uri: str) -> tuple[str, dict[str, Any]]:
        """The provider's authorization URL to send the browser to, and what the session keeps
        until the callback (`state`, `nonce`, the PKCE `code_verifier`, when it started)."""
        metadata = self.provider.metadata()
        pending = {"state": secrets.token_urlsafe(32), "nonce": secrets.token_urlsafe(32),
                   "code_verifier": secrets.token_urlsafe(64), "started": int(self._clock())}
        with self.provider.session(self.client_id, self._secret, redirect_uri) as session:
            url, _ = session.create_authorization_url(
                metadata.authorization_endpoint, state=pending["state"],
                code_verifier=pending["code_verifier"], nonce=pending["nonce"])
        return url, pending

    def finish(self, query: Mapping[str, str], pending: Mapping[str, Any] | None,
               redirect_uri: str) -> str:
        """The team member's address (the member's own, also when the token names an alias), once
        the callback's `query` and the ID token it leads to pass every check; else SignInRefused."""
        code, verifier, nonce = self._answer(query, pending)
        token = self._exchange(code, verifier, redirect_uri)
        expected = Expected(self.provider.issuer, self.client_id, nonce,
                            str(token.get("access_token") or ""))
        claims = verified_claims(token["id_token"], self.provider.keys, expected, self._clock())
        address = token_address(claims, self.kind)
        member = SqlDirectory().team_member(address)
        if member is None:
            log.info("oidc: %s is not a team member", address)
            raise SignInRefused(REFUSED + f"{address} is not a member of the team.")
        return str(member.email)

    def _answer(self, query: Mapping[str, str],
                pending: Mapping[str, Any] | None) -> tuple[str, str, str]:
        """The code, verifier and nonce of a callback that belongs to the sign-in this browser
        started, recently, and that the provider did not turn down."""
        state, verifier, nonce, started = _pending_fields(pending)
        if not hmac.compare_digest(str(query.get("state", "")).encode(), state.encode()):
            raise SignInRefused(REFUSED + "the answer does not belong to the sign-in this browser "
                                "started; start again.")
        error = str(query.get("error", ""))
        if error:
            shown = error if _ERROR_CODE.fullmatch(error) else "an error"
            raise SignInRefused(REFUSED + f"the sign-in provider did not sign you in ({shown}).")
        if self._clock() - started > PENDING_SECONDS:
            raise SignInRefused(REFUSED + "the sign-in took too long; start again.")
        code = str(query.get("code", ""))
        if not code:
            raise SignInRefused(REFUSED + "the sign-in provider's answer had no code.")
        return code, verifier, nonce

    def _exchange(self, code: str, verifier: str, redirect_uri: str) -> dict[str, Any]:
        """The token endpoint's answer to the code, with the verifier and the client secret."""
        metadata = self.provider.metadata()
        with self.provider.session(self.client_id, self._secret, redirect_uri) as session:
            try:
                token = session.fetch_token(metadata.token_endpoint,
                                            grant_type="authorization_code", code=code,
                                            code_verifier=verifier)
            except OAuthError as exc:
                log.warning("oidc: token endpoint refused the code: %s", exc.error)
                shown = exc.error if _ERROR_CODE.fullmatch(str(exc.error)) else "an error"
                raise SignInRefused(REFUSED + f"the sign-in provider refused the code ({shown}); "
                                    "start again.") from None
            except requests.RequestException as exc:
                raise self.provider.unreachable(exc) from None
            except (ValueError, TypeError):
                raise SignInRefused(REFUSED + "the sign-in provider's token answer is not "
                                    "JSON.") from None
        if not isinstance(token, Mapping) or not isinstance(token.get("id_token"), str):
            raise SignInRefused(REFUSED + "the sign-in provider gave no ID token.")
        return dict(token)


def _pending_fields(pending: Mapping[str, Any] | None) -> tuple[str, str, str, int]:
    """state, code_verifier, nonce and started, as begin() made them."""
    if isinstance(pending, Mapping):
        state, verifier, nonce, started = (pending.get(key) for key in
                                           ("state", "code_verifier", "nonce", "started"))
        if (isinstance(state, str) and isinstance(verifier, str) and isinstance(nonce, str)
                and state and verifier and nonce and isinstance(started, int)):
            return state, verifier, nonce, started
    raise SignInRefused(REFUSED + "this browser did not start a sign-in; start again.")
