"""One wording for network and TLS trouble, whichever client (IMAP or SMTP) met it."""

from __future__ import annotations

import socket
import ssl


def describe_network(exc: BaseException) -> str | None:
    """A plain phrase for a connection or TLS error; None when it is not one of those."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "host not found"
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failure ({exc.reason or exc})"
    return None
