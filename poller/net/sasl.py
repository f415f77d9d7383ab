"""SASL sign-in with an OAuth2 token (SPEC section 19), and saying how it went.

XOAUTH2 when the server offers it, else OAUTHBEARER. A refused token is fetched again once
and tried again at once; a second refusal is one error line with the server's answer. The token
itself never appears in what is raised or returned. SMTP's sign-in is here; IMAP's is in
poller.imap.login, so sending mail never loads the IMAP client.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from core.errors import NoticeError, TokenError, TouchlogError

if TYPE_CHECKING:
    import smtplib

    from core.oauth2_config import OAuth2Config
    from poller.net.oauth2 import Token


MECHANISMS = ("XOAUTH2", "OAUTHBEARER")


def choose_mechanism(offered: Iterable[str], where: str,
                     error: type[TouchlogError]) -> str:
    offered = [m.upper() for m in offered]
    for mechanism in MECHANISMS:
        if mechanism in offered:
            return mechanism
    raise error(f"{where}: offers neither XOAUTH2 nor OAUTHBEARER, so no OAuth2 sign-in "
                f"(it offers {', '.join(offered) or 'no SASL mechanism'})")


def password_origin(env: str, file: str) -> str:
    return f"password from {file}" if file else f"password from ${env}"


def oauth2_sign_in_words(mechanism: str, token: Token) -> str:
    """How we signed in, for `touchlog check`."""
    return f"oauth2 {mechanism}, token from {token.origin}, {token.expiry()}"


def smtp_login(smtp: smtplib.SMTP, config: OAuth2Config, where: str) -> str:
    """AUTH over an EHLO'd (and, if configured, STARTTLS'd) connection; NoticeError if not."""
    from poller.net.oauth2 import session_for

    try:
        smtp.ehlo_or_helo_if_needed()
        offered = smtp.esmtp_features.get("auth", "").split()
        mechanism = choose_mechanism(offered, where, NoticeError)
        session = session_for(config)
        token = session.token()
        refusal = _smtp_authenticate(smtp, mechanism, config.username, token)
        if refusal:
            token = session.renew()
            refusal = _smtp_authenticate(smtp, mechanism, config.username, token)
            if refusal:
                raise NoticeError(refused_twice(where, mechanism, config, token, refusal))
    except TokenError as exc:
        raise NoticeError(str(exc)) from None
    return oauth2_sign_in_words(mechanism, token)


def _smtp_authenticate(smtp: smtplib.SMTP, mechanism: str, user: str, token: Token) -> str:
    """'' when the server took the token, else its answer (the JSON challenge it sent, which
    names the problem, and the final reply)."""
    import smtplib

    challenges: list[str] = []

    def respond(challenge: bytes | None = None) -> str:
        if challenge is None:
            return _sasl_string(mechanism, user, token.value)
        # A challenge after the token is the server's error report: answer with the empty
        # response (XOAUTH2) or ^A (OAUTHBEARER, RFC 7628) to get its final reply.
        challenges.append(challenge.decode("utf-8", "replace"))
        return "" if mechanism == "XOAUTH2" else "\x01"

    try:
        smtp.auth(mechanism, respond, initial_response_ok=True)
    except smtplib.SMTPAuthenticationError as exc:
        reply = exc.smtp_error.decode("utf-8", "replace") if isinstance(
            exc.smtp_error, bytes) else str(exc.smtp_error)
        return " ".join([f"{exc.smtp_code} {reply}", *challenges])
    return ""


def _sasl_string(mechanism: str, user: str, token: str) -> str:
    if mechanism == "XOAUTH2":
        return f"user={user}\x01auth=Bearer {token}\x01\x01"
    authzid = user.replace("=", "=3D").replace(",", "=2C")
    return f"n,a={authzid},\x01auth=Bearer {token}\x01\x01"


def refused_twice(where: str, mechanism: str, config: OAuth2Config, token: Token,
                   answer: str) -> str:
    from poller.net.secrets import redact

    return redact(f"{where}: {mechanism} sign-in as {config.username} refused twice (token from "
                  f"{token.origin}, fetched again after the first refusal): "
                  f"{' '.join(answer.split())}")
