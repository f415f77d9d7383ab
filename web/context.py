"""What every part of the web app reads: the app's state (settings, keys, clock, mailer) and
the request's (the signed-in member, the client's address)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from flask import abort, current_app, g

from core.settings import Settings
from core.utc import utcnow
from store.access.keys import WebKeys
from store.models import TeamMember
from web.client import Network
from web.signin.login_mail import Mailer
from web.signin.oidc import OidcClient


@dataclass
class WebState:
    """One per app (create_app): read once at start, never per request."""

    settings: Settings
    keys: WebKeys
    metrics_token: str  # "" = no /metrics
    trusted_proxies: tuple[Network, ...]
    mailer: Mailer
    oidc: OidcClient | None = None  # when "oidc" is one of web.sign_in
    # The clock sign-in links, sessions and audit rows are stamped with; tests move it.
    clock: Callable[[], datetime] = field(default=utcnow)

    @property
    def secure(self) -> bool:
        """Cookies are `Secure` when people open the app over https (SPEC 21)."""
        return self.settings.web.base_url.startswith("https://")


def state() -> WebState:
    return current_app.extensions["touchlog"]


def now() -> datetime:
    return state().clock()


def settings() -> Settings:
    return state().settings


def signed_in() -> TeamMember | None:
    """The member of this request's session, read afresh from the team (web.gate), or None."""
    return g.get("member")


def member() -> TeamMember:
    """The signed-in member: the author of whatever this request does (the CLI's `--as`).
    Every page outside /login, /static, /healthz and /metrics has one (web.gate)."""
    who = signed_in()
    if who is None:
        abort(401)
    return who


def client() -> str:
    """The client's address (web.client), as the audit trail and the rate limits see it."""
    return str(g.get("client", ""))
