"""Sign-in by OpenID Connect (SPEC 21, web/oidc.py) against the local fake provider over HTTPS
(tests/fake_oidc.py): the whole flow as a browser makes it (begin, follow the authorization URL,
finish), and every way an ID token or a callback must be refused, with the words the login page
shows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from core.errors import ConfigError, SignInRefused
from core.settings import Settings, settings_from_dict
from tests.builders import import_directory
from tests.fake_oidc import FakeOidc
from web.signin import oidc_token
from web.signin.oidc import PENDING_SECONDS, OidcClient
from web.signin.oidc_token import provider_kind

REDIRECT = "http://127.0.0.1:8765/login/oidc/callback"
SECRET_ENV = "TOUCHLOG_TEST_OIDC_SECRET"
TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"


@pytest.fixture
def fake() -> Iterator[FakeOidc]:
    fake = FakeOidc().start()
    yield fake
    fake.stop()


@pytest.fixture
def team(db: Any, tmp_path: Path) -> None:
    """sam@ourco.com (aliases sam.alias@ourco.com, Sam.S@sales.ourco.com) and ann@ourco.com."""
    import_directory(tmp_path)


def settings_for(fake: FakeOidc, folder: Path, monkeypatch: pytest.MonkeyPatch,
                 **web: Any) -> Settings:
    monkeypatch.setenv(SECRET_ENV, fake.client_secret)
    raw = {"sign_in": ["oidc"], "oidc_issuer": fake.issuer, "oidc_client_id": fake.client_id,
           "oidc_client_secret_env": SECRET_ENV, "oidc_ca_file": fake.ca_file, **web}
    return settings_from_dict({"web": {k: v for k, v in raw.items() if v is not None}},
                              base_dir=folder)


@pytest.fixture
def client(fake: FakeOidc, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
           team: None) -> OidcClient:
    return OidcClient(settings_for(fake, tmp_path, monkeypatch))


def follow(url: str, fake: FakeOidc) -> dict[str, str]:
    """What the browser brings back to the callback: the provider's redirect's query."""
    answer = requests.get(url, verify=fake.ca_file, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def sign_in(client: OidcClient, fake: FakeOidc) -> str:
    url, pending = client.begin(REDIRECT)
    return client.finish(follow(url, fake), pending, REDIRECT)


def refusal(client: OidcClient, fake: FakeOidc) -> str:
    with pytest.raises(SignInRefused) as caught:
        sign_in(client, fake)
    message = str(caught.value)
    assert "eyJ" not in message  # no token text
    assert fake.client_secret not in message
    return message


# --- signing in -------------------------------------------------------------------------------


def test_a_team_member_signs_in_by_the_code_flow_with_pkce_state_and_nonce(
        client: OidcClient, fake: FakeOidc) -> None:
    url, pending = client.begin(REDIRECT)
    sent = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith(fake.issuer + "/authorize?")
    assert sent["response_type"] == "code" and sent["code_challenge_method"] == "S256"
    assert sent["scope"] == "openid email profile" and sent["redirect_uri"] == REDIRECT
    assert sent["state"] == pending["state"] and sent["nonce"] == pending["nonce"]
    assert "code_verifier" not in sent and pending["code_verifier"] not in url
    assert len(json.dumps(pending)) < 300  # small enough for a session cookie

    assert client.finish(follow(url, fake), pending, REDIRECT) == "sam@ourco.com"
    exchange = fake.token_requests[-1]
    assert exchange["code_verifier"] == pending["code_verifier"]
    assert exchange["redirect_uri"] == REDIRECT
    assert fake.client_auth == ["basic"]  # the provider lists client_secret_basic


def test_an_alias_signs_in_as_its_member(client: OidcClient, fake: FakeOidc) -> None:
    fake.user["email"] = "Sam.S@sales.ourco.com"
    assert sign_in(client, fake) == "sam@ourco.com"


def test_an_es256_token_is_accepted(client: OidcClient, fake: FakeOidc) -> None:
    fake.sign = "es256"
    fake.user["email"] = "ann@ourco.com"
    assert sign_in(client, fake) == "ann@ourco.com"


def test_the_secret_goes_in_the_body_when_the_provider_takes_only_that(
        client: OidcClient, fake: FakeOidc) -> None:
    fake.discovery["token_endpoint_auth_methods_supported"] = ["client_secret_post"]
    assert sign_in(client, fake) == "sam@ourco.com"
    assert fake.client_auth == ["post"]


def test_rotated_keys_are_fetched_again_once(client: OidcClient, fake: FakeOidc) -> None:
    assert sign_in(client, fake) == "sam@ourco.com"
    assert sign_in(client, fake) == "sam@ourco.com"
    assert fake.jwks_fetches == 1  # cached
    fake.rotate()
    assert sign_in(client, fake) == "sam@ourco.com"
    assert fake.jwks_fetches == 2


# --- ID tokens that must be refused --------------------------------------------------------------

FORGED = "the sign-in answer was not signed with the provider's published keys."

BAD_TOKENS = {
    "wrong issuer": ({"iss": "https://evil.example"}, "rs256",
                     "the sign-in answer came from another issuer."),
    "wrong audience": ({"aud": "someone-else"}, "rs256",
                       "the sign-in answer was issued for another application."),
    "wrong audience, our azp": ({"aud": "someone-else", "azp": "touchlog-web"}, "rs256",
                                "the sign-in answer was issued for another application."),
    "several audiences, no azp": ({"aud": ["touchlog-web", "other"]}, "rs256",
                                  "the sign-in answer was issued for another application."),
    "several audiences, azp another": ({"aud": ["touchlog-web", "other"], "azp": "other"},
                                       "rs256", "was issued for another application."),
    "expired": ({"iat": 1_700_000_000, "exp": 1_700_003_600}, "rs256",
                "the sign-in answer has expired; start again."),
    "no expiry": ({"exp": None}, "rs256", "the sign-in answer lacks the claim 'exp'."),
    "issued in the future": ({"iat": 4_000_000_000, "exp": 4_000_003_600}, "rs256",
                             "is dated in the future"),
    "wrong nonce": ({"nonce": "another-sign-in"}, "rs256",
                    "the sign-in answer does not belong to this sign-in; start again."),
    "no nonce": ({"nonce": None}, "rs256", "does not belong to this sign-in"),
    "a key not published, same kid": ({}, "stranger", FORGED),
    "a key not published, own kid": ({}, "unknown-kid", FORGED),
    "alg none": ({}, "none", FORGED),
    "HS256 keyed with the public key": ({}, "hs256-public", FORGED),
    "no team member": ({"email": "mallory@elsewhere.example"}, "rs256",
                       "mallory@elsewhere.example is not a member of the team."),
    "email_verified false": ({"email_verified": False}, "rs256",
                             "the sign-in provider has not verified the address sam@ourco.com."),
    "email_verified 'false'": ({"email_verified": "false"}, "rs256", "has not verified"),
    "no email": ({"email": None}, "rs256", "the sign-in provider gave no email address."),
    "preferred_username only, not Microsoft": (
        {"email": None, "preferred_username": "sam@ourco.com"}, "rs256", "gave no email address"),
}


@pytest.mark.parametrize("claims, sign, words", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_an_id_token_is_refused(client: OidcClient, fake: FakeOidc, claims: dict[str, Any],
                                sign: str, words: str) -> None:
    fake.claims, fake.sign = claims, sign
    message = refusal(client, fake)
    assert message.startswith("Sign-in refused: ")
    assert words in message


def test_an_unknown_key_id_fetches_the_keys_once_more_then_refuses(
        client: OidcClient, fake: FakeOidc) -> None:
    fake.sign = "unknown-kid"
    assert FORGED in refusal(client, fake)
    assert fake.jwks_fetches == 2


# --- Google and Microsoft ---------------------------------------------------------------------


def test_the_providers_are_told_apart_by_their_issuer() -> None:
    assert provider_kind("https://accounts.google.com") == "google"
    assert provider_kind(f"https://login.microsoftonline.com/{TENANT}/v2.0") == "microsoft"
    assert provider_kind(f"https://login.microsoftonline.us/{TENANT}/v2.0") == "microsoft"
    assert provider_kind("https://login.microsoftonline.com.evil.example/x/v2.0") == ""
    assert provider_kind("https://idp.ourco.com") == ""


@pytest.fixture
def as_google(fake: FakeOidc, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake takes Google's issuer's place: its rules apply to it."""
    monkeypatch.setattr(oidc_token, "GOOGLE_ISSUERS", (fake.issuer,))


@pytest.mark.parametrize("verified", [None, "maybe", False])
def test_google_must_say_the_address_is_verified(as_google: None, fake: FakeOidc,
                                                 tmp_path: Path, team: None, verified: Any,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    client = OidcClient(settings_for(fake, tmp_path, monkeypatch))
    fake.claims = {"email_verified": verified}
    assert "has not verified the address sam@ourco.com" in refusal(client, fake)


def test_google_signs_in_with_a_verified_address_and_its_bare_issuer(
        as_google: None, fake: FakeOidc, tmp_path: Path, team: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    client = OidcClient(settings_for(fake, tmp_path, monkeypatch))
    assert sign_in(client, fake) == "sam@ourco.com"
    fake.claims = {"iss": "accounts.google.com"}  # Google documents both forms
    assert sign_in(client, fake) == "sam@ourco.com"


@pytest.fixture
def microsoft(tmp_path: Path, team: None,
              monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeOidc, OidcClient]]:
    """A fake Entra ID tenant (issuer https://HOST/<tenant>/v2.0), its v2.0 ID token's shape:
    preferred_username, no email unless configured as an optional claim, no email_verified."""
    fake = FakeOidc(path=f"/{TENANT}/v2.0").start()
    fake.user = {"sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", "name": "Sam Seller",
                 "preferred_username": "sam.alias@ourco.com", "tid": TENANT}
    monkeypatch.setattr(oidc_token, "MICROSOFT_HOSTS", ("127.0.0.1",))
    yield fake, OidcClient(settings_for(fake, tmp_path, monkeypatch))
    fake.stop()


def test_microsoft_signs_in_by_preferred_username(microsoft: tuple[FakeOidc, OidcClient]) -> None:
    fake, client = microsoft
    assert sign_in(client, fake) == "sam@ourco.com"


def test_microsoft_email_wins_over_preferred_username(
        microsoft: tuple[FakeOidc, OidcClient]) -> None:
    fake, client = microsoft
    fake.claims = {"email": "ann@ourco.com"}
    assert sign_in(client, fake) == "ann@ourco.com"


def test_microsoft_without_an_address_is_refused(microsoft: tuple[FakeOidc, OidcClient]) -> None:
    fake, client = microsoft
    fake.claims = {"preferred_username": "+15551234567"}
    assert "gave no email address" in refusal(client, fake)


# --- callbacks that must be refused -----------------------------------------------------------


def test_a_replayed_code_is_refused(client: OidcClient, fake: FakeOidc) -> None:
    url, pending = client.begin(REDIRECT)
    query = follow(url, fake)
    assert client.finish(query, pending, REDIRECT) == "sam@ourco.com"
    with pytest.raises(SignInRefused, match=r"refused the code \(invalid_grant\); start again"):
        client.finish(query, pending, REDIRECT)


def test_a_wrong_state_is_refused_before_the_code_is_spent(client: OidcClient,
                                                           fake: FakeOidc) -> None:
    url, pending = client.begin(REDIRECT)
    query = follow(url, fake)
    with pytest.raises(SignInRefused, match="does not belong to the sign-in this browser started"):
        client.finish({**query, "state": "forged"}, pending, REDIRECT)
    with pytest.raises(SignInRefused, match="this browser did not start a sign-in"):
        client.finish(query, None, REDIRECT)
    assert fake.token_requests == []
    assert client.finish(query, pending, REDIRECT) == "sam@ourco.com"


def test_a_wrong_code_verifier_is_refused_by_the_provider(client: OidcClient,
                                                          fake: FakeOidc) -> None:
    url, pending = client.begin(REDIRECT)
    query = follow(url, fake)
    with pytest.raises(SignInRefused, match=r"refused the code \(invalid_grant\)"):
        client.finish(query, {**pending, "code_verifier": "x" * 86}, REDIRECT)


def test_an_error_from_the_provider_is_a_refusal(client: OidcClient, fake: FakeOidc) -> None:
    fake.deny = "access_denied"
    assert refusal(client, fake) == ("Sign-in refused: the sign-in provider did not sign you in "
                                     "(access_denied).")
    url, pending = client.begin(REDIRECT)
    hostile = {"state": pending["state"], "error": "<script>alert(1)</script>",
               "error_description": "Call +1 555 0100 to unlock your account"}
    with pytest.raises(SignInRefused) as caught:
        client.finish(hostile, pending, REDIRECT)
    assert str(caught.value) == ("Sign-in refused: the sign-in provider did not sign you in "
                                 "(an error).")


def test_a_sign_in_left_too_long_is_refused(fake: FakeOidc, tmp_path: Path, team: None,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    now = [2_000_000_000.0]
    client = OidcClient(settings_for(fake, tmp_path, monkeypatch), clock=lambda: now[0])
    url, pending = client.begin(REDIRECT)
    now[0] += PENDING_SECONDS + 1
    with pytest.raises(SignInRefused, match="the sign-in took too long; start again"):
        client.finish(follow(url, fake), pending, REDIRECT)


def test_a_wrong_client_secret_is_refused(fake: FakeOidc, tmp_path: Path, team: None,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_for(fake, tmp_path, monkeypatch)
    monkeypatch.setenv(SECRET_ENV, "not-the-secret")
    assert "refused the code (invalid_client)" in refusal(OidcClient(settings), fake)


# --- the provider itself ---------------------------------------------------------------------


def test_an_issuer_mismatch_in_discovery_is_refused(client: OidcClient, fake: FakeOidc) -> None:
    fake.discovery["issuer"] = "https://evil.example"
    with pytest.raises(SignInRefused) as caught:
        client.begin(REDIRECT)
    assert str(caught.value) == (
        "Sign-in by OIDC is misconfigured: its discovery document names the issuer "
        f"'https://evil.example', not web.oidc_issuer '{fake.issuer}'.")


def test_an_endpoint_that_is_not_https_is_refused(client: OidcClient, fake: FakeOidc) -> None:
    fake.discovery["token_endpoint"] = fake.issuer.replace("https:", "http:") + "/token"
    with pytest.raises(SignInRefused, match="misconfigured: its discovery document has no "
                                            "https token_endpoint"):
        client.begin(REDIRECT)


def test_a_provider_that_is_down_is_one_clear_message(
        client: OidcClient, fake: FakeOidc, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    url, pending = client.begin(REDIRECT)
    query = follow(url, fake)
    fake.stop()
    down = (f"The sign-in provider cannot be reached ({fake.issuer}: connection refused); "
            "try again later.")
    with pytest.raises(SignInRefused) as caught:
        client.finish(query, pending, REDIRECT)
    assert str(caught.value) == down
    fresh = OidcClient(settings_for(fake, tmp_path, monkeypatch))
    with pytest.raises(SignInRefused) as caught:
        fresh.begin(REDIRECT)
    assert str(caught.value) == down


def test_a_provider_in_trouble_is_one_clear_message(client: OidcClient, fake: FakeOidc) -> None:
    fake.down_status = 503
    with pytest.raises(SignInRefused) as caught:
        client.begin(REDIRECT)
    assert str(caught.value) == (f"The sign-in provider ({fake.issuer}) did not give its "
                                 "discovery document (HTTP 503); try again later.")


def test_the_ca_file_is_trusted_whatever_the_environment_says(
        fake: FakeOidc, tmp_path: Path, team: None, monkeypatch: pytest.MonkeyPatch) -> None:
    import trustme

    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(other))
    assert sign_in(OidcClient(settings_for(fake, tmp_path, monkeypatch)), fake) == "sam@ourco.com"

    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    monkeypatch.delenv("CURL_CA_BUNDLE")
    untrusted = OidcClient(settings_for(fake, tmp_path, monkeypatch, oidc_ca_file=None))
    with pytest.raises(SignInRefused, match=r"its TLS certificate is not trusted \(checked "
                                            r"against the system's CAs\)"):
        untrusted.begin(REDIRECT)


def test_oidc_needs_a_client_secret(fake: FakeOidc, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match=r"web.sign_in has \"oidc\", which needs "
                                          r"web.oidc_client_secret_env"):
        settings_for(fake, tmp_path, monkeypatch, oidc_client_secret_env=None)
    monkeypatch.setenv(SECRET_ENV, "")
    settings = settings_from_dict({"web": {
        "sign_in": ["oidc"], "oidc_issuer": fake.issuer, "oidc_client_id": "x",
        "oidc_client_secret_env": SECRET_ENV}})
    with pytest.raises(ConfigError, match="web.oidc_client_secret_env"):
        OidcClient(settings)
