"""The configured Salesforce instance, and the one check every URL Salesforce returns passes.

Salesforce answers with URLs touchlog would otherwise follow with its session token: a query's
`nextRecordsUrl`, login()'s `serverUrl`, a redirect. Each must be on the configured instance
(https, the same host, the same port) or the run stops with one line naming it (SPEC 20). A
path is taken as Salesforce writes it (`/services/data/v62.0/query/01g…-2000`): starting with
one `/`, no backslash, space or control character, so that joined to the instance's own
address it cannot name another host (`@evil.example/…`, `.evil.example/…`, `//evil.example`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from core.errors import SalesforceError
from sync.remote import quoted

_UNSAFE = re.compile(r"[\x00-\x20\x7f\\]")


@dataclass(frozen=True)
class Origin:
    host: str  # lower case
    port: int

    @classmethod
    def of(cls, instance_url: str) -> Origin:
        parts = urlsplit(instance_url)
        return cls((parts.hostname or "").lower(), parts.port or 443)

    @property
    def url(self) -> str:
        return f"https://{self.host}" + ("" if self.port == 443 else f":{self.port}")

    @property
    def netloc(self) -> str:
        return self.url.removeprefix("https://")

    def path_of(self, url: object, what: str) -> str:
        """The path (and query) of `url` when it is on this instance; else SalesforceError."""
        if isinstance(url, str) and not _UNSAFE.search(url):
            if url.startswith("/") and not url.startswith("//"):
                return url
            if self._same(url):
                parts = urlsplit(url)
                return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        raise SalesforceError(f"salesforce {self.netloc}: {what} {quoted(url, 200)} is not on "
                              f"{self.url}; not followed")

    def _same(self, url: str) -> bool:
        try:
            parts = urlsplit(url)
            port = parts.port or 443
        except ValueError:  # a port that is no number
            return False
        return (parts.scheme == "https" and parts.username is None and parts.password is None
                and (parts.hostname or "") == self.host and port == self.port
                and parts.path.startswith("/") and not parts.path.startswith("//"))
