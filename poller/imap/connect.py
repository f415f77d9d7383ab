"""Reaching an IMAP server and signing in: TLS as settings say, one MailboxError line for
every way it can go wrong (poller/imap/session.py wraps the session that results)."""

from __future__ import annotations

from collections.abc import Callable

from imapclient import IMAPClient
from imapclient.exceptions import CapabilityError, IMAPClientError, LoginError

from core.errors import MailboxError, TouchlogError
from core.sections import MailboxSettings
from poller.imap.wire import imap_error_text
from poller.net.tls import client_context

# Signs in on a connected client (e.g. with an OAuth2 token); returns how, for `touchlog check`.
Login = Callable[[IMAPClient, str], str]


def open_client(settings: MailboxSettings, timeout: float) -> IMAPClient:
    where = f"imap {settings.host}:{settings.port}"
    context = (client_context(settings.ca_file, settings.verify_tls)
               if settings.tls != "none" else None)
    try:
        client = IMAPClient(settings.host, port=settings.port, ssl=settings.tls == "ssl",
                            ssl_context=context, timeout=timeout)
        # imaplib's debug formatting of every literal triples the fetch cost (SPEC 7).
        client._imap.debug = 0
        client.normalise_times = False  # aware datetimes, not naive local time
        if settings.tls == "starttls":
            client.starttls(context)
    except CapabilityError:
        raise MailboxError(f"{where}: server does not offer STARTTLS") from None
    except (IMAPClientError, OSError) as exc:
        raise MailboxError(f"{where}: {imap_error_text(exc)}") from None
    return client


def sign_in(client: IMAPClient, settings: MailboxSettings, password: str,
            login: Login | None) -> str:
    """Log in with the password, or with `login` (OAuth2); how, in words."""
    where = f"imap {settings.host}:{settings.port}"
    try:
        if login:
            return login(client, where)
        client.login(settings.username, password)
        return "password"
    except LoginError:
        client.shutdown()
        raise MailboxError(f"{where}: login refused for {settings.username}") from None
    except TouchlogError:  # the OAuth2 sign-in's own one line (poller/imap/login.py)
        client.shutdown()
        raise
    except (IMAPClientError, OSError) as exc:
        raise MailboxError(f"{where}: login failed: {imap_error_text(exc)}") from None
