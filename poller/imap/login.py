"""Every IMAP session starts here: the mailbox of the settings, signed in with the password or
with an OAuth2 token over SASL (SPEC section 19; the mechanism and the retry are in
poller.net.sasl, shared with SMTP)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, overload

from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from core.errors import MailboxError
from core.settings import Settings
from poller.imap.session import Mailbox
from poller.net.sasl import (
    choose_mechanism,
    oauth2_sign_in_words,
    password_origin,
    refused_twice,
)

if TYPE_CHECKING:  # a password sign-in, the common one, needs neither
    from core.oauth2_config import OAuth2Config
    from poller.net.oauth2 import Token

M = TypeVar("M", bound=Mailbox)



@overload
def open_mailbox(settings: Settings, **options: Any) -> Mailbox: ...
@overload
def open_mailbox(settings: Settings, kind: type[M], **options: Any) -> M: ...


def open_mailbox(settings: Settings, kind: type[Mailbox] = Mailbox, **options: Any) -> Mailbox:
    """The mailbox of these settings (a `kind` of Mailbox, e.g. the IDLE one), signed in as
    `mailbox.auth` says: the password, or an OAuth2 token. Every IMAP session starts here."""
    mb = settings.mailbox
    if mb.auth != "oauth2":
        box = kind.connect(mb, settings.imap_password(), **options)
        box.signed_in = password_origin(mb.password_env, mb.password_file)
        return box
    from core.oauth2_config import imap_config

    config = imap_config(settings.mailbox, settings.base_dir)
    return kind.connect(mb, "", login=lambda client, where: imap_login(client, config, where),
                        **options)


def imap_login(client: IMAPClient, config: OAuth2Config, where: str) -> str:
    from poller.net.oauth2 import session_for

    offered = [c.decode("ascii", "replace")[5:] for c in client.capabilities()
               if c.upper().startswith(b"AUTH=")]
    mechanism = choose_mechanism(offered, where, MailboxError)
    session = session_for(config)
    token = session.token()
    try:
        _imap_authenticate(client, mechanism, config.username, token)
    except LoginError:
        token = session.renew()  # expired early, or revoked: one fresh token, at once
        try:
            _imap_authenticate(client, mechanism, config.username, token)
        except LoginError as exc:
            raise MailboxError(refused_twice(where, mechanism, config, token,
                                              str(exc))) from None
    return oauth2_sign_in_words(mechanism, token)


def _imap_authenticate(client: IMAPClient, mechanism: str, user: str, token: Token) -> None:
    if mechanism == "XOAUTH2":
        client.oauth2_login(user, token.value)
    else:
        client.oauthbearer_login(user, token.value)


# --- SMTP -----------------------------------------------------------------------------------


