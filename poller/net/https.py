"""The HTTPS session every call to another service goes through (the OAuth2 identity providers,
Salesforce): it trusts the configured `ca_file` whatever the environment says.

requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE replace a session's own `verify`; only a
`verify` given with each request survives, so a ca_file set on the session alone would be
silently ignored on machines that set those variables. Imported only when such a call is made.
"""

from __future__ import annotations

from typing import Any

import requests


class CaSession(requests.Session):
    """`ca_file` (else the system's CAs) or, with `verify_tls` off, no check; a default
    timeout on every request; `count` says how many were made."""

    def __init__(self, ca_file: str = "", verify_tls: bool = True,
                 timeout: float | tuple[float, float] = 30.0) -> None:
        super().__init__()
        self.verify_with: bool | str = (ca_file or True) if verify_tls else False
        self.timeout = timeout
        self.count = 0

    def request(self, method: str, url: str,  # type: ignore[override]
                *args: Any, **kwargs: Any) -> requests.Response:
        kwargs["verify"] = self.verify_with
        kwargs.setdefault("timeout", self.timeout)
        self.count += 1
        return super().request(method, url, *args, **kwargs)
