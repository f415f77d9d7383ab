"""Every name SPEC gives to a decision, defined once: outcomes, scenarios, rules, reason codes.

Code compares against these constants, never a string typed again; a test checks that every
failure reason has its notice text and its README line.
"""

from __future__ import annotations

from typing import Final

# --- outcomes (SPEC 1) ------------------------------------------------------------------------
LOGGED: Final = "logged"
SKIPPED: Final = "skipped"
FAILED: Final = "failed"
OUTCOMES: Final = (LOGGED, SKIPPED, FAILED)

# --- scenarios (SPEC 2, 14), in the order they are tried ---------------------------------------
REPLY: Final = "reply"
COPY: Final = "copy"
FORWARD: Final = "forward"
NOTE: Final = "note"
SCENARIOS: Final = (REPLY, COPY, FORWARD, NOTE)

# --- rules that choose an account (SPEC 4, 13, 14) ---------------------------------------------
CONTACT: Final = "contact"
DEFAULT_BCC: Final = "default_bcc"
RECENCY: Final = "recency"
DOMAIN: Final = "domain"
SENDER_HISTORY: Final = "sender_history"
DOMAIN_HISTORY: Final = "domain_history"
MANUAL: Final = "manual"
THREAD: Final = "thread"
RULES: Final = (CONTACT, DEFAULT_BCC, RECENCY, DOMAIN, SENDER_HISTORY, DOMAIN_HISTORY, MANUAL,
                THREAD)

# --- failure reasons (SPEC 5, part two) --------------------------------------------------------
UNKNOWN_SENDER: Final = "unknown_sender"
NO_CUSTOMER_ADDRESS: Final = "no_customer_address"
PLUS_ADDRESS: Final = "plus_address"
NO_ACCOUNT: Final = "no_account"
AMBIGUOUS_ACCOUNT: Final = "ambiguous_account"
EMPTY: Final = "empty"
PARSE_ERROR: Final = "parse_error"
UNAUTHENTICATED_SENDER: Final = "unauthenticated_sender"
UNKNOWN_THREAD: Final = "unknown_thread"
INTERNAL_ERROR: Final = "internal_error"
TOO_LARGE: Final = "too_large"  # SPEC 20: over mailbox.max_message_bytes, never fetched whole
FAILURE_REASONS: Final = (UNKNOWN_SENDER, NO_CUSTOMER_ADDRESS, PLUS_ADDRESS, NO_ACCOUNT,
                          AMBIGUOUS_ACCOUNT, EMPTY, PARSE_ERROR, UNAUTHENTICATED_SENDER,
                          UNKNOWN_THREAD, INTERNAL_ERROR, TOO_LARGE)

# --- skip reasons (SPEC 5 and README) ----------------------------------------------------------
DUPLICATE: Final = "duplicate"
OWN_NOTICE: Final = "own_notice"
AUTO_GENERATED: Final = "auto_generated"
BOUNCE: Final = "bounce"
BULK: Final = "bulk"
CALENDAR: Final = "calendar"
SKIP_REASONS: Final = (DUPLICATE, OWN_NOTICE, AUTO_GENERATED, BOUNCE, BULK, CALENDAR)


KEYWORD_PREFIX: Final = "$tl_"


def keyword(reason: str) -> str:
    """The IMAP keyword a failed message carries in the failed folder (`$tl_no_account`)."""
    return f"{KEYWORD_PREFIX}{reason}"
