"""A fake identity provider on loopback for the OAuth2 tests, and an SMTP server that wants
XOAUTH2 or OAUTHBEARER.

- HTTPS (a throwaway CA made here) for the token endpoints: Microsoft's v2.0 metadata and
  client-credentials grant under /<tenant>/, Google's JWT-bearer grant at /google/token (the
  assertion's RS256 signature is checked against the service account's public key).
- Plain HTTP /introspect for Dovecot's oauth2 passdb (tools/dovecot.py): `Authorization: Bearer`
  in, {"active": ..., "username": ...} out.
Tokens expire after `lifetime` seconds; `revoke()` and `refuse_all` make the servers refuse.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import secrets
import ssl
import threading
import time
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.smtpsink import SmtpSink, _Handler

HOST = "127.0.0.1"
GOOGLE_SCOPE = "https://mail.google.com/"
MICROSOFT_SCOPE = "https://outlook.office365.com/.default"


@dataclass
class Issued:
    user: str  # the mailbox the token may open
    expires_at: float
    grant: str


@dataclass
class App:
    secret: str
    mailbox: str  # the mailbox granted to the app (Add-MailboxPermission / scoped RBAC)


@dataclass
class FakeIdentity:
    directory: Path
    lifetime: float = 3.0
    apps: dict[str, App] = field(default_factory=dict)  # client_id -> App
    service_accounts: dict[str, Any] = field(default_factory=dict)  # client_email -> public key
    tokens: dict[str, Issued] = field(default_factory=dict)
    grants: Counter = field(default_factory=Counter)  # tokens issued per grant type
    introspections: int = 0
    issued: list[str] = field(default_factory=list)  # every token ever handed out
    refuse_all: bool = False

    def start(self) -> FakeIdentity:
        self.ca_file = self.directory / "idp-ca.pem"
        context = _server_context(self.directory, self.ca_file)
        self._https = ThreadingHTTPServer((HOST, 0), _handler(self))
        self._https.socket = context.wrap_socket(self._https.socket, server_side=True)
        self._http = ThreadingHTTPServer((HOST, 0), _handler(self))
        for server in (self._https, self._http):
            threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        for server in (self._https, self._http):
            server.shutdown()
            server.server_close()

    @property
    def base_url(self) -> str:
        return f"https://{HOST}:{self._https.server_address[1]}"

    @property
    def introspection_url(self) -> str:
        return f"http://{HOST}:{self._http.server_address[1]}/introspect"

    # --- what the tests set up and look at ------------------------------------------------

    def add_app(self, mailbox: str) -> tuple[str, str]:
        client_id, secret = f"app-{secrets.token_hex(4)}", secrets.token_urlsafe(24)
        self.apps[client_id] = App(secret, mailbox)
        return client_id, secret

    def add_service_account(self, directory: Path) -> Path:
        """A service account key file, as the Google Cloud console downloads it."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        email = f"touchlog-{secrets.token_hex(3)}@project.iam.gserviceaccount.com"
        self.service_accounts[email] = key.public_key()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
        path = directory / "service-account.json"
        path.write_text(json.dumps({
            "type": "service_account", "project_id": "project", "private_key_id": "k1",
            "private_key": pem, "client_email": email, "client_id": "1234",
            "token_uri": f"{self.base_url}/google/token"}))
        return path

    def issue(self, user: str, grant: str = "direct") -> str:
        """A token for `user`, as a helper of the user's own would have fetched."""
        exp = time.time() + self.lifetime
        claims = {"aud": "https://outlook.office365.com", "exp": int(exp) + 1,
                  "jti": secrets.token_hex(8), "upn": user}
        token = ".".join([_b64(b'{"alg":"RS256","typ":"JWT"}'), _b64(json.dumps(claims).encode()),
                          _b64(secrets.token_bytes(16))])
        self.tokens[token] = Issued(user, exp, grant)
        self.issued.append(token)
        self.grants[grant] += 1
        return token

    def revoke(self) -> None:
        """Every token issued so far stops working (an admin revoked the app's sessions)."""
        self.tokens.clear()

    def valid(self, token: str, user: str) -> bool:
        issued = self.tokens.get(token)
        return (not self.refuse_all and issued is not None and issued.user == user
                and issued.expires_at > time.time())

    def introspect(self, token: str) -> dict[str, Any]:
        self.introspections += 1
        issued = self.tokens.get(token)
        if self.refuse_all or issued is None or issued.expires_at <= time.time():
            return {"active": False}
        return {"active": True, "username": issued.user}

    # --- grants -------------------------------------------------------------------------------

    def client_credentials(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        app = self.apps.get(form.get("client_id", ""))
        if app is None or form.get("client_secret") != app.secret:
            return 401, {"error": "invalid_client", "error_description":
                         "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1"}
        if form.get("scope") != MICROSOFT_SCOPE:
            return 400, {"error": "invalid_scope", "error_description": "AADSTS70011: bad scope"}
        token = self.issue(app.mailbox, "client_credentials")
        return 200, {"token_type": "Bearer", "expires_in": int(self.lifetime),
                     "access_token": token}

    def jwt_bearer(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        import jwt  # PyJWT, which MSAL brings

        assertion = form.get("assertion", "")
        issuer = jwt.decode(assertion, options={"verify_signature": False}).get("iss", "")
        key = self.service_accounts.get(issuer)
        if key is None:
            return 400, {"error": "invalid_grant", "error_description": "no such account"}
        try:
            # google-auth always names Google's endpoint as the audience, wherever token_uri
            # sends the assertion.
            claims = jwt.decode(assertion, key, algorithms=["RS256"],
                                audience="https://oauth2.googleapis.com/token")
        except (jwt.PyJWTError, TypeError) as exc:
            return 400, {"error": "invalid_grant", "error_description": f"bad assertion: {exc}"}
        if claims.get("scope") != GOOGLE_SCOPE or not claims.get("sub"):
            return 400, {"error": "unauthorized_client", "error_description":
                         "Client is unauthorized to retrieve access tokens using this method, "
                         "or client not authorized for any of the scopes requested."}
        token = "ya29." + secrets.token_urlsafe(40)
        self.tokens[token] = Issued(claims["sub"], time.time() + self.lifetime, "jwt_bearer")
        self.issued.append(token)
        self.grants["jwt_bearer"] += 1
        return 200, {"access_token": token, "expires_in": int(self.lifetime),
                     "token_type": "Bearer"}


def _handler(idp: FakeIdentity) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            if self.path == "/introspect":
                token = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
                return self._json(200, idp.introspect(token))
            tenant = self.path.strip("/").split("/")[0]
            if self.path.endswith("/v2.0/.well-known/openid-configuration"):
                base = f"{idp.base_url}/{tenant}"
                return self._json(200, {
                    "token_endpoint": f"{base}/oauth2/v2.0/token",
                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "issuer": f"{base}/v2.0"})
            self._json(404, {"error": "not_found"})

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            form = {k: v[0] for k, v in parse_qs(body).items()}
            grant = form.get("grant_type", "")
            if self.path.endswith("/oauth2/v2.0/token") and grant == "client_credentials":
                return self._json(*idp.client_credentials(form))
            if self.path == "/google/token" and grant.endswith(":jwt-bearer"):
                return self._json(*idp.jwt_bearer(form))
            self._json(400, {"error": "unsupported_grant_type"})

        def _json(self, status: int, data: dict[str, Any]) -> None:
            raw = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    return Handler


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _server_context(directory: Path, ca_path: Path) -> ssl.SSLContext:
    """A CA that exists only for this test run, and a certificate for 127.0.0.1 from it."""
    now = dt.datetime.now(dt.UTC)
    valid = (now - dt.timedelta(days=1), now + dt.timedelta(days=2))
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "touchlog test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(valid[0]).not_valid_after(valid[1])
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(valid[0]).not_valid_after(valid[1])
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(HOST))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    chain = directory / "idp-cert.pem"
    chain.write_bytes(cert.public_bytes(serialization.Encoding.PEM)
                      + key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain)
    return context


# --- SMTP that takes only OAuth2 --------------------------------------------------------------


class _LongLineSMTP(SMTP):
    """Real servers take AUTH lines of several KB (a JWT is long); aiosmtpd stops at 512."""

    line_length_limit = 16384

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.command_size_limits = defaultdict(lambda: 16384)


class _Controller(Controller):
    def factory(self) -> SMTP:
        with warnings.catch_warnings():  # "AUTH without TLS": on loopback, on purpose
            warnings.simplefilter("ignore")
            return _LongLineSMTP(self.handler, **self.SMTP_kwargs)


@dataclass
class _OAuthHandler(_Handler):
    """XOAUTH2 as Gmail answers it: a refusal is a 334 JSON challenge, then 535."""

    idp: FakeIdentity | None = None
    mechanisms: tuple[str, ...] = ("XOAUTH2", "OAUTHBEARER")
    attempts: Counter = field(default_factory=Counter)

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        return await self._check(server, args, "XOAUTH2")

    async def auth_OAUTHBEARER(self, server: SMTP, args: list[str]) -> AuthResult:
        return await self._check(server, args, "OAUTHBEARER")

    async def _check(self, server: SMTP, args: list[str], mechanism: str) -> AuthResult:
        if mechanism not in self.mechanisms:
            return AuthResult(success=False, handled=False,
                              message="504 5.5.4 Unrecognized authentication type")
        raw = base64.b64decode(args[1]) if len(args) > 1 else await server.challenge_auth("")
        if not isinstance(raw, bytes):  # the client gave up
            return AuthResult(success=False, handled=True)
        pairs = [part.split("=", 1) for part in raw.decode().split("\x01") if "=" in part]
        fields = {key: value for key, value in pairs}
        user = fields.get("user") or fields.get("n,a", "").rstrip(",")
        token = fields.get("auth", "").removeprefix("Bearer ")
        self.attempts[mechanism] += 1
        assert self.idp is not None
        if self.idp.valid(token, user):
            return AuthResult(success=True, auth_data=LoginPassword(user.encode(), b""))
        await server.challenge_auth(json.dumps({"status": "401", "schemes": "bearer",
                                                "scope": GOOGLE_SCOPE}))
        return AuthResult(success=False, handled=False,
                          message="535 5.7.8 Username and Password not accepted")


class OAuthSmtpSink(SmtpSink):
    """An SMTP server that accepts mail only after AUTH XOAUTH2/OAUTHBEARER with a token of
    `idp`; `mechanisms` limits what it offers."""

    def __init__(self, idp: FakeIdentity, mechanisms: tuple[str, ...] = ("XOAUTH2",
                                                                         "OAUTHBEARER")) -> None:
        super().__init__()
        self._oauth = _OAuthHandler(idp=idp, mechanisms=mechanisms)
        self._handler = self._oauth

    @property
    def attempts(self) -> Counter:
        return self._oauth.attempts

    def start(self) -> OAuthSmtpSink:
        if self._controller is None:
            excluded = ["PLAIN", "LOGIN"] + [m for m in ("XOAUTH2", "OAUTHBEARER")
                                              if m not in self._oauth.mechanisms]
            self._controller = _Controller(
                self._handler, hostname=self.host, port=self.port, auth_require_tls=False,
                auth_required=True, auth_exclude_mechanism=excluded)
            self._controller.start()
        return self
