"""The TLS context for the IMAP and SMTP clients, from the same two settings of each section."""

from __future__ import annotations

import ssl


def client_context(ca_file: str, verify: bool) -> ssl.SSLContext:
    """System CAs, or `ca_file` (already resolved against the settings file) instead;
    `verify = false` turns off certificate and host name checks."""
    context = ssl.create_default_context(cafile=ca_file or None)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
