"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, keeping every message it accepts.

The port is chosen once and kept across stop()/start(), so a test can take the server down and
bring it back at the same address the settings point to.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    auth: str | None  # the login name the client authenticated as, if it did


@dataclass
class _Handler:
    messages: list[Received] = field(default_factory=list)
    reject: dict[str, str] = field(default_factory=dict)  # recipient -> reply, e.g. "550 ..."

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address.lower() in self.reject:
            return self.reject[address.lower()]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        message = message_from_bytes(raw, policy=policy.default)
        login = session.auth_data.login.decode() if session.auth_data else None
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message, login))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpSink:
    """start()/stop() an SMTP server; `messages` keeps what it accepted, in order.

    users: {login: password} turns on AUTH (PLAIN/LOGIN, allowed without TLS for plain tests).
    tls_context: offer STARTTLS with it; ssl_context: implicit TLS (SMTPS) with it.
    """

    def __init__(self, users: dict[str, str] | None = None,
                 tls_context: ssl.SSLContext | None = None,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self.users = users
        self.tls_context = tls_context
        self.ssl_context = ssl_context
        self._handler = _Handler()
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[Received]:
        return self._handler.messages

    @property
    def reject(self) -> dict[str, str]:
        return self._handler.reject

    def start(self) -> SmtpSink:
        if self._controller is None:
            self._controller = Controller(self._handler, hostname=self.host, port=self.port,
                                          ssl_context=self.ssl_context, **self._smtp_kwargs())
            self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def _smtp_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if self.users is not None:
            kwargs.update(authenticator=self._authenticate, auth_require_tls=False)
        if self.tls_context is not None:
            kwargs.update(tls_context=self.tls_context, require_starttls=True)
        return kwargs

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> AuthResult:
        if isinstance(auth_data, LoginPassword) and self.users is not None:
            login, password = auth_data.login.decode(), auth_data.password.decode()
            if self.users.get(login) == password:
                return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
