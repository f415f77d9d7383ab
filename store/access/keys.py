"""The web app's keys (store.kept) and the keyed hash that stores a secret value without
keeping it: a session cookie, a sign-in link's token."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from store.kept import kept_secret


@dataclass(frozen=True)
class WebKeys:
    """Made once per database, shared by every process serving it; read once when the app
    starts."""

    session: bytes  # hashes session cookies before they are stored
    csrf: bytes  # makes each session's CSRF token
    link: bytes  # hashes sign-in link tokens before they are stored


def web_keys() -> WebKeys:
    return WebKeys(session=kept_secret("web_session_key"), csrf=kept_secret("web_csrf_key"),
                   link=kept_secret("web_link_key"))


def keyed_hash(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
