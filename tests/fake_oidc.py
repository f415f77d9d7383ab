"""A small local OpenID provider for the sign-in tests (web/oidc.py): HTTPS on 127.0.0.1 with a
throwaway CA (trustme), like tests/fake_salesforce.py.

What it serves, under its issuer's path (https://127.0.0.1:PORT[/PATH]):
- GET /.well-known/openid-configuration: the discovery document (`discovery` overrides fields);
- GET /jwks: the public signing keys (an RSA key for RS256 and an EC key for ES256);
- GET /authorize: the authorization endpoint. It checks the client, the exact redirect URI,
  `response_type=code`, the `openid` scope and a PKCE S256 challenge, then redirects back with a
  code and the state, as if `user` had signed in (or with `?error=` when `deny` is set);
- POST /token: the code exchange. It checks the client secret (HTTP Basic or in the body, not
  both), that the code is this client's, unused, unexpired and for the same redirect URI, and the
  PKCE code_verifier; it answers an access token and an ID token.

Scripting a test: `user` is who signs in; `claims` are merged over the next ID tokens' claims
(a None value removes one); `sign` chooses how they are signed: "rs256" (the published key),
"es256" (the published EC key), "stranger" (a key not in the JWKS, under the published kid),
"unknown-kid" (a key not in the JWKS, under a kid of its own), "none" (`alg: none`, no
signature), "hs256-public" (HS256 keyed with the published RSA key's PEM, the classic confusion).
`rotate()` publishes a new signing key under a new kid.

Where it differs from Google's and Microsoft's documentation (on purpose, to stay small):
- there is no sign-in page: /authorize answers at once as `user`, with no consent screen, no
  `prompt`, `login_hint` or `hd` handling;
- PKCE is required and only S256 is taken (Google and Microsoft also take `plain`, and do not
  require PKCE from a confidential client that sends its secret);
- a code lives 10 minutes and works once; a replayed code is `invalid_grant` but the tokens it
  first gave are not revoked (RFC 6749 4.1.2 says they should be);
- its RS256/ES256 ID tokens always carry `at_hash`, as Google's do (Microsoft's from /token
  never do);
- one client at a time and no refresh tokens, userinfo endpoint, or `end_session_endpoint`;
- Microsoft's v2.0 ID tokens carry `email` only as an optional claim and never `email_verified`;
  the fake sends whatever `user` and `claims` say, so a test scripts each provider's shape.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import secrets
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

CODE_SECONDS = 600


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str | None
    user: dict[str, Any]
    at: float
    used: bool = False


@dataclass
class FakeOidc:
    path: str = ""  # the issuer's path, e.g. "/<tenant>/v2.0" as Microsoft's
    client_id: str = "touchlog-web"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    redirect_uris: list[str] = field(
        default_factory=lambda: ["http://127.0.0.1:8765/login/oidc/callback"])
    user: dict[str, Any] = field(default_factory=lambda: {
        "sub": "110169484474386276334", "email": "sam@ourco.com", "email_verified": True,
        "name": "Sam Seller"})
    claims: dict[str, Any] = field(default_factory=dict)
    discovery: dict[str, Any] = field(default_factory=dict)
    sign: str = "rs256"
    deny: str = ""  # an OAuth error code /authorize answers with instead of a code
    down_status: int = 0  # every endpoint answers this HTTP status instead (a provider in trouble)
    grants: dict[str, Grant] = field(default_factory=dict)
    jwks_fetches: int = 0
    token_requests: list[dict[str, str]] = field(default_factory=list)
    client_auth: list[str] = field(default_factory=list)  # "basic" or "post", per token request

    def __post_init__(self) -> None:
        self.rsa, self.ec, self.stranger = _keys()
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    # --- running ------------------------------------------------------------------------------

    def start(self) -> FakeOidc:
        self.ca_file, cert = _tls()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert.configure_cert(context)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def issuer(self) -> str:
        assert self._server is not None, "start() first"
        return f"https://127.0.0.1:{self._server.server_address[1]}{self.path}"

    def rotate(self) -> None:
        """A new signing key under a new kid; the old one is no longer published."""
        kid = f"rsa-{int(self.rsa.kid.split('-')[1]) + 1}"
        self.rsa = RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig"})

    # --- the endpoints ------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, str], form: dict[str, str],
               basic: tuple[str, str] | None) -> tuple[int, dict[str, str], Any]:
        """(status, extra headers, JSON body or text)"""
        if self.down_status:
            return self.down_status, {}, "<html>Service Unavailable</html>"
        route = path.removeprefix(self.path)
        if method == "GET" and route == "/.well-known/openid-configuration":
            return 200, {}, self._discovery()
        if method == "GET" and route == "/jwks":
            self.jwks_fetches += 1
            keys = KeySet([self.rsa, self.ec]).as_dict(private=False)
            return 200, {}, keys
        if method == "GET" and route == "/authorize":
            return self._authorize(query)
        if method == "POST" and route == "/token":
            with self._lock:
                return self._token(form, basic)
        return 404, {}, {"error": "not_found"}

    def _discovery(self) -> dict[str, Any]:
        # The fields Google's and Microsoft's documents carry that a client reads.
        return {"issuer": self.issuer, "authorization_endpoint": self.issuer + "/authorize",
                "token_endpoint": self.issuer + "/token", "jwks_uri": self.issuer + "/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256", "ES256"],
                "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": ["client_secret_post",
                                                          "client_secret_basic"],
                "code_challenge_methods_supported": ["S256"],
                "claims_supported": ["aud", "email", "email_verified", "exp", "iat", "iss",
                                     "name", "sub", "nonce", "preferred_username"],
                **self.discovery}

    def _authorize(self, q: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        # Like the real ones, an unknown client or redirect URI is an error page, never a redirect.
        if q.get("client_id") != self.client_id or q.get("redirect_uri") not in self.redirect_uris:
            return 400, {}, "<html>Error 400: redirect_uri_mismatch</html>"
        back = q["redirect_uri"]
        error = self.deny
        if q.get("response_type") != "code" or "openid" not in q.get("scope", "").split():
            error = error or "invalid_request"
        if q.get("code_challenge_method") != "S256" or len(q.get("code_challenge", "")) != 43:
            error = error or "invalid_request"
        answer = {"error": error} if error else {"code": self._grant(q)}
        if "state" in q:
            answer["state"] = q["state"]
        return 302, {"Location": f"{back}?{urlencode(answer)}"}, ""

    def _grant(self, q: dict[str, str]) -> str:
        code = secrets.token_urlsafe(32)
        self.grants[code] = Grant(q["client_id"], q["redirect_uri"], q["code_challenge"],
                                  q.get("nonce"), dict(self.user), time.time())
        return code

    def _token(self, form: dict[str, str],
               basic: tuple[str, str] | None) -> tuple[int, dict[str, str], Any]:
        self.token_requests.append(dict(form))
        if basic and "client_secret" in form:
            return 400, {}, {"error": "invalid_request"}
        self.client_auth.append("basic" if basic else "post")
        client_id, secret = basic or (form.get("client_id", ""), form.get("client_secret", ""))
        if client_id != self.client_id or not hmac.compare_digest(secret, self.client_secret):
            return 401, {}, {"error": "invalid_client"}
        if form.get("grant_type") != "authorization_code":
            return 400, {}, {"error": "unsupported_grant_type"}
        grant = self.grants.get(form.get("code", ""))
        if (grant is None or grant.used or time.time() - grant.at > CODE_SECONDS
                or grant.client_id != client_id or grant.redirect_uri != form.get("redirect_uri")
                or _s256(form.get("code_verifier", "")) != grant.challenge):
            return 400, {}, {"error": "invalid_grant"}
        grant.used = True
        access = secrets.token_urlsafe(32)
        return 200, {"Cache-Control": "no-store"}, {
            "access_token": access, "token_type": "Bearer", "expires_in": 3599,
            "scope": "openid email profile", "id_token": self.id_token(grant, access)}

    # --- the ID token -------------------------------------------------------------------------

    def id_token(self, grant: Grant, access_token: str) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {"iss": self.issuer, "aud": self.client_id, "iat": now,
                                  "exp": now + 3600, **grant.user}
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        if self.sign in ("rs256", "es256"):
            claims["at_hash"] = _b64(hashlib.sha256(access_token.encode()).digest()[:16])
        claims.update(self.claims)
        claims = {k: v for k, v in claims.items() if v is not None}
        return self._signed(claims)

    def _signed(self, claims: dict[str, Any]) -> str:
        if self.sign == "es256":
            return jwt.encode({"alg": "ES256", "kid": self.ec.kid}, claims, self.ec)
        if self.sign == "none":
            return _compact({"alg": "none", "typ": "JWT"}, claims, lambda _: b"")
        if self.sign == "hs256-public":
            secret = self.rsa.as_pem(private=False)
            return _compact({"alg": "HS256", "typ": "JWT", "kid": self.rsa.kid}, claims,
                            lambda data: hmac.new(secret, data, hashlib.sha256).digest())
        key = self.rsa
        header = {"alg": "RS256", "kid": key.kid, "typ": "JWT"}
        if self.sign == "stranger":
            key = self.stranger  # same kid as the published key, other key material
        elif self.sign == "unknown-kid":
            key, header["kid"] = self.stranger, "rsa-stranger"
        return jwt.encode(header, claims, key)


@functools.cache
def _keys() -> tuple[RSAKey, ECKey, RSAKey]:
    """The published RSA and EC keys and the stranger's, made once per test run (2048-bit RSA
    keys take a while); rotate() makes a fresh one."""
    return (RSAKey.generate_key(2048, parameters={"kid": "rsa-1", "use": "sig"}),
            ECKey.generate_key("P-256", parameters={"kid": "ec-1", "use": "sig"}),
            RSAKey.generate_key(2048, parameters={"kid": "rsa-1"}))


@functools.cache
def _tls() -> tuple[str, Any]:
    """A throwaway CA's file and the server certificate it issued for 127.0.0.1, once a run."""
    import trustme

    ca = trustme.CA()
    ca_file = str(Path(tempfile.mkdtemp(prefix="touchlog-fake-oidc-")) / "ca.pem")
    ca.cert_pem.write_to_path(ca_file)
    return ca_file, ca.issue_cert("127.0.0.1", "localhost")


def _s256(verifier: str) -> str:
    return _b64(hashlib.sha256(verifier.encode()).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _compact(header: dict[str, Any], claims: dict[str, Any], sign: Any) -> str:
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64(sign(signing_input.encode()))}"


def _basic(header: str) -> tuple[str, str] | None:
    if not header.startswith("Basic "):
        return None
    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    return unquote(user), unquote(password)  # RFC 6749 2.3.1: form-encoded before Basic


def _handler(fake: FakeOidc) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            form = {k: v[0] for k, v in parse_qs(raw).items()}
            basic = _basic(self.headers.get("Authorization") or "")
            status, headers, answer = fake.handle(self.command, url.path, query, form, basic)
            data = (answer if isinstance(answer, str) else json.dumps(answer)).encode()
            self.send_response(status)
            kind = "text/html" if isinstance(answer, str) else "application/json"
            for name, value in {"Content-Type": kind, **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

    return Handler
