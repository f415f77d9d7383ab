"""The SMTP session notices and mailed touchpoints share: connect, secure (STARTTLS or implicit
TLS), sign in (password or OAuth2), and every failure as one NoticeError line naming the step.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager

from core.errors import NoticeError
from core.sections import NotifySettings
from core.settings import Settings
from poller.net.network_errors import describe_network
from poller.net.tls import client_context

SMTP_TIMEOUT = 30.0


def open_smtp(settings: Settings) -> smtplib.SMTP:
    """A connected, secured and logged-in session over the notify settings (mailed copies of
    touchpoints use it too); NoticeError names the step that failed."""
    return _open_signed_in(settings.notify, settings)[0]


def smtp_refusal(exc: smtplib.SMTPException) -> str:
    """The server's own words, on one line."""
    return one_line(smtp_text(exc))


def check_smtp(settings: Settings) -> str:
    """Connect, secure, log in and QUIT: one line saying it works, else NoticeError."""
    notify = settings.notify
    smtp, how = _open_signed_in(notify, settings)
    close_smtp(smtp)
    return f"smtp {where(notify)} ok ({notify.smtp_tls}), {how}"


def _open_signed_in(notify: NotifySettings, settings: Settings) -> tuple[smtplib.SMTP, str]:
    """A connected, secured and logged-in session, and how it signed in; NoticeError names the
    step that failed."""
    with _step(notify, "cannot connect"):
        if notify.smtp_tls == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                notify.smtp_host, notify.smtp_port, timeout=SMTP_TIMEOUT,
                context=client_context(notify.ca_file, notify.verify_tls))
        else:
            smtp = smtplib.SMTP(notify.smtp_host, notify.smtp_port, timeout=SMTP_TIMEOUT)
    how = "no login"
    try:
        if notify.smtp_tls == "starttls":
            with _step(notify, "STARTTLS failed"):
                smtp.starttls(context=client_context(notify.ca_file, notify.verify_tls))
        if notify.smtp_auth == "oauth2":
            how = _oauth2_login(smtp, notify, settings)
        elif notify.smtp_username:
            with _step(notify, f"login as {notify.smtp_username} failed"):
                smtp.login(notify.smtp_username, settings.smtp_password())
            from poller.net.sasl import password_origin

            how = password_origin(notify.smtp_password_env, notify.smtp_password_file)
    except NoticeError:
        close_smtp(smtp)
        raise
    return smtp, how


def _oauth2_login(smtp: smtplib.SMTP, notify: NotifySettings, settings: Settings) -> str:
    from core.oauth2_config import smtp_config
    from poller.net.sasl import smtp_login

    with _step(notify, f"sign-in as {notify.smtp_username} failed"):
        config = smtp_config(settings.notify, settings.base_dir)
        return smtp_login(smtp, config, f"smtp {where(notify)}")


@contextmanager
def _step(notify: NotifySettings, what: str) -> Iterator[None]:
    try:
        yield
    except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        text = (smtp_text(exc) if isinstance(exc, smtplib.SMTPException)
                else describe_network(exc) or exc.strerror or str(exc))
        raise NoticeError(one_line(f"smtp {where(notify)}: {what}: {text}")) from None


def close_smtp(smtp: smtplib.SMTP) -> None:
    """QUIT, or just close when the server is past answering."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def smtp_text(exc: smtplib.SMTPException) -> str:
    """The server's own words: code and text (one reply per refused recipient)."""
    replies = list(getattr(exc, "recipients", {}).values()) or [
        (getattr(exc, "smtp_code", ""), getattr(exc, "smtp_error", str(exc)))]
    return "; ".join(f"{code} {_decoded(text)}".strip() for code, text in replies)


def _decoded(text: bytes | str) -> str:
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else text


def where(notify: NotifySettings) -> str:
    return f"{notify.smtp_host}:{notify.smtp_port}"


def one_line(text: str) -> str:
    return " ".join(text.split())
