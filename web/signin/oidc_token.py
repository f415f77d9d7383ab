"""Whether an ID token may sign someone in (SPEC 21).

It must be signed by one of the issuer's published keys with an asymmetric algorithm (never
`alg: none`, never an HMAC whose "secret" is the public key), be for this client (`aud`, and
`azp` when it has several audiences), come from this issuer, be unexpired (a minute of leeway
for clocks), carry this sign-in's nonce, and give an address by the provider's rules. joserfc
checks the signature and Authlib's CodeIDToken the claims; this module chooses what they are
told and turns what they raise into words a person can read (no token text in them).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import (
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet

from core.errors import SignInRefused

log = logging.getLogger(__name__)

# Asymmetric only: the keys come from a public JWKS, so an HMAC algorithm could only ever be
# keyed with public material.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
LEEWAY_SECONDS = 60
GOOGLE_ISSUERS = ("https://accounts.google.com",)
# Google documents that `iss` may also be this bare form.
GOOGLE_BARE_ISSUER = "accounts.google.com"
# Entra ID's v2.0 issuers (https://HOST/<tenant>/v2.0): worldwide, US government, China.
MICROSOFT_HOSTS = ("login.microsoftonline.com", "login.microsoftonline.us",
                   "login.partner.microsoftonline.cn", "login.chinacloudapi.cn")

REFUSED = "Sign-in refused: "
_CLAIM_WORDS = {
    "iss": "the sign-in answer came from another issuer.",
    "aud": "the sign-in answer was issued for another application.",
    "azp": "the sign-in answer was issued for another application.",
    "exp": "the sign-in answer has expired; start again.",
    "nonce": "the sign-in answer does not belong to this sign-in; start again.",
    "iat": "the sign-in answer is dated in the future (check this server's clock).",
    "nbf": "the sign-in answer is dated in the future (check this server's clock).",
}


def provider_kind(issuer: str) -> str:
    """"google", "microsoft" or "" (any other provider): their address rules differ."""
    if issuer in GOOGLE_ISSUERS:
        return "google"
    if urlsplit(issuer).hostname in MICROSOFT_HOSTS:
        return "microsoft"
    return ""


@dataclass(frozen=True)
class Expected:
    """What this sign-in's ID token must say."""

    issuer: str
    client_id: str
    nonce: str
    access_token: str = ""  # checks the token's at_hash when it has one


def verified_claims(id_token: str, keys: Callable[[bool], KeySet], expected: Expected,
                    now: float) -> dict[str, Any]:
    """The claims of `id_token` once every check passed; `keys(fresh)` gives the issuer's keys
    (read again once when the token names a key id the cached set lacks)."""
    token = _signed(id_token, keys)
    issuers = [expected.issuer]
    if provider_kind(expected.issuer) == "google":
        issuers.append(GOOGLE_BARE_ISSUER)
    options = {"iss": {"essential": True, "values": issuers},
               "aud": {"essential": True, "value": expected.client_id},
               "exp": {"essential": True},
               "nonce": {"essential": True, "value": expected.nonce}}
    params = {"nonce": expected.nonce, "client_id": expected.client_id,
              "access_token": expected.access_token}
    claims = CodeIDToken(token.claims, token.header, options, params)
    try:
        claims.validate(now=int(now), leeway=LEEWAY_SECONDS)
    except ClaimError as exc:
        raise _claim_refusal(exc) from None
    return dict(claims)


def token_address(claims: dict[str, Any], kind: str) -> str:
    """The address the token vouches for. Microsoft's `email` is optional, so its
    `preferred_username` (the sign-in name, an address in Entra ID) stands in; `email_verified:
    false` is refused from anyone, and Google must say `email_verified: true`."""
    address = claims.get("email")
    if kind == "microsoft" and not address:
        address = claims.get("preferred_username")
    if not isinstance(address, str) or "@" not in address:
        raise SignInRefused(REFUSED + "the sign-in provider gave no email address.")
    address = address.strip()
    verified = claims.get("email_verified")
    # Some providers send the flag as a string; "false" must not pass as a truthy string.
    said = str(verified).lower() if isinstance(verified, bool | str) else None
    if said == "false" or (kind == "google" and said != "true"):
        raise SignInRefused(REFUSED + f"the sign-in provider has not verified the address "
                            f"{address}.")
    return address


def _signed(id_token: str, keys: Callable[[bool], KeySet]) -> jwt.Token:
    try:
        try:
            return jwt.decode(id_token, keys(False), algorithms=ALGORITHMS)
        except InvalidKeyIdError:
            return jwt.decode(id_token, keys(True), algorithms=ALGORITHMS)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        log.warning("oidc: ID token signature refused: %s: %s", type(exc).__name__, exc)
        raise SignInRefused(REFUSED + "the sign-in answer was not signed with the provider's "
                            "published keys.") from None


def _claim_refusal(exc: ClaimError) -> SignInRefused:
    claim = "exp" if isinstance(exc, ExpiredTokenError) else exc.claim
    log.warning("oidc: ID token refused: %s", exc)
    if isinstance(exc, MissingClaimError) and claim not in ("nonce", "azp"):
        words = f"the sign-in answer lacks the claim {claim!r}."
    else:
        words = _CLAIM_WORDS.get(claim, f"the sign-in answer's claim {claim!r} is wrong.")
    return SignInRefused(REFUSED + words)
