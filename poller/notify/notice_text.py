"""What a failure notice says: the reason in plain words, the addresses considered, the fix.

The fixes are the resolutions of the reference documents: make the address match exactly, keep
a contact on one account, set the default flag, or log it by hand.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.reasons import (
    AMBIGUOUS_ACCOUNT,
    EMPTY,
    INTERNAL_ERROR,
    NO_ACCOUNT,
    NO_CUSTOMER_ADDRESS,
    PARSE_ERROR,
    PLUS_ADDRESS,
    TOO_LARGE,
    UNAUTHENTICATED_SENDER,
    UNKNOWN_SENDER,
    UNKNOWN_THREAD,
)

SUBJECT_PREFIX = "Touchpoint not logged: "
# SPEC 11, 20: a message whose sender was not established must not choose a word of what we
# send to the team: these notices have subjects of our own.
UNAUTHENTICATED_SUBJECT = "touchlog: a message in your name failed sender authentication"
REFUSED_REPLY_SUBJECT = "touchlog: a reply to a touchpoint you mailed was not logged"
INTERNAL_ERROR_SUBJECT = "touchlog: a message broke touchlog and was not logged"
MAX_QUOTED_CHARS = 200


def compose(reason: str, detail: str, original_subject: str, candidates: Sequence[str],
            trace: dict | None) -> tuple[str, str]:
    """(subject, body) of the notice for one failed message."""
    subject = " ".join((original_subject or "").split()) or "(no subject)"
    if not candidates and trace and isinstance(trace.get("candidates"), list):
        candidates = trace["candidates"]  # resolve's trace: [{"address": ..., ...}]
    addresses = [_address_text(c) for c in candidates]
    return SUBJECT_PREFIX + subject, _body(reason, detail, subject, addresses,
                                           reason == NO_ACCOUNT and _contacts_only(trace))


def _contacts_only(trace: dict | None) -> bool:
    """The domain pass found the domain, on accounts that take only their known contacts."""
    steps = trace.get("steps", []) if trace else []
    return any(isinstance(step, dict) and step.get("contacts_only") for step in steps)


def _address_text(candidate: object) -> str:
    """A candidate as a plain address, whether a str, a trace entry or a message Address."""
    if isinstance(candidate, dict):
        return str(candidate.get("address") or candidate.get("email") or candidate)
    return str(getattr(candidate, "email", candidate))


# --- what each reason means and how to fix it (the resolutions of the reference documents) --

_CONTACTS_ONLY = (
    "The address's domain belongs to an account that takes only its known contacts "
    "(contact_matches_only), and this person is not one of them yet.",
    ("Ask a touchlog admin to add the person as a customer user (contact) of that account, "
     "then send the message again.",
     "Or log the touchpoint by hand."))
WHY_AND_FIX: dict[str, tuple[str, tuple[str, ...]]] = {
    UNKNOWN_SENDER: (
        "The address you sent from is not a touchlog team member, and only team members can "
        "log touchpoints.",
        ("Ask a touchlog admin to add your address to the team, or to add it as an alias of "
         "your team login, then send the message again.",)),
    NO_CUSTOMER_ADDRESS: (
        "touchlog found no customer (external) address in the message.",
        ("When you write to a customer, put the touchpoints mailbox in Bcc or Cc.",
         "When you forward a customer's mail, forward it with the original From/To/Cc lines.",
         "For your own notes, put the customer's address in the subject, "
         "e.g. \"jill@customer.com call notes\".")),
    PLUS_ADDRESS: (
        "The customer address has a +extension (a \"+something\" before the @), and touchlog "
        "does not record such addresses.",
        ("Use the customer's plain address, without the +extension, and send again.",)),
    NO_ACCOUNT: (
        "No account has a contact with the addresses considered, nor a contact or an email "
        "domain at their domains.",
        ("Make sure the address matches the contact's address in touchlog exactly, "
         "and send again.",
         "Or ask an admin to add the person as a contact on the right account.",
         "Or log the touchpoint by hand.")),
    AMBIGUOUS_ACCOUNT: (
        "Several accounts match equally well (a parent and a child account count as two), so "
        "touchlog cannot tell which one the message belongs to.",
        ("Keep the contact on one account only, and send again.",
         "Or set the default flag (default_bcc) on the account that should get this mail.",
         "Or log the touchpoint by hand.")),
    EMPTY: (
        "The message has no subject and no text, so there is nothing to log.",
        ("Add a subject or some text (your notes) and send again.",)),
    PARSE_ERROR: (
        "touchlog could not read the message; it is kept, unchanged, in the failed folder.",
        ("Send it again, or forward it as an attachment.",
         "If that fails too, log the touchpoint by hand and tell a touchlog admin.")),
    # Part two (SPEC 11, 14, 17): the engineers who build these may sharpen the words.
    UNAUTHENTICATED_SENDER: (
        "A message was sent to the touchpoints mailbox in your name, but your mail server's "
        "check (SPF, DKIM or DMARC) did not show that it really came from you, so touchlog did "
        "not log it.",
        ("If you sent it, ask a touchlog admin to check the [trust] settings: "
         "trust.authserv_ids must name your mail server (touchlog check lists the ones seen); "
         "then they can retry it.",
         "If you did not send it, someone may be using your address: tell your mail "
         "administrator.")),
    UNKNOWN_THREAD: (
        "The message replies to a touchpoint copy, but its reply address no longer matches a "
        "touchpoint thread (the address was changed, or the thread no longer exists).",
        ("Send your message to the touchpoints mailbox again in Bcc, so it is logged as a new "
         "touchpoint.",
         "Or log the touchpoint by hand.")),
    INTERNAL_ERROR: (
        "touchlog ran into an unexpected error on this message several times in a row; the "
        "message is kept, unchanged, in the failed folder.",
        ("A touchlog admin has been told. Once the problem is fixed, the admin can retry it "
         "(touchlog failures retry).",
         "If it cannot wait, log the touchpoint by hand.")),
    TOO_LARGE: (
        "The message is larger than touchlog reads (mailbox.max_message_bytes), so only its "
        "headers were read; it is kept, unchanged, in the failed folder.",
        ("Send it again without the large attachments (share a link to the files instead), "
         "or forward only its text.",
         "Or log the touchpoint by hand.")),
}
_NAMES_ONLY_FIX = ("The forwarded lines show names without addresses: forward the message as an "
                   "attachment, or make sure the addresses appear in the From/To/Cc lines.")
_CLOSING = ("The message is kept in the failed folder. Once fixed, send it again or ask a "
            "touchlog admin to retry it (touchlog failures retry).\n\n"
            "-- \ntouchlog: this notice was sent automatically.")


def _body(reason: str, detail: str, subject: str, candidates: Sequence[str],
          contacts_only: bool = False) -> str:
    why, fixes = _CONTACTS_ONLY if contacts_only else WHY_AND_FIX.get(reason, (
        f"touchlog could not log the message ({reason}).",
        ("Ask a touchlog admin: `touchlog explain` shows what was decided.",)))
    if reason == NO_CUSTOMER_ADDRESS and _says_names_only(detail):
        fixes = (_NAMES_ONLY_FIX, *fixes)
    considered = "\n".join(f"  - {c}" for c in candidates) or "  (none)"
    lines = [f"Your message \"{subject}\" was not logged as a touchpoint.", "",
             f"Why: {why}"]
    if detail.strip():
        lines.append(f"Detail: {' '.join(detail.split())}")
    lines += ["", "Addresses considered:", considered, "", "How to fix it:",
              *(f"  - {fix}" for fix in fixes), "", _CLOSING]
    return "\n".join(lines) + "\n"


def _says_names_only(detail: str) -> bool:
    # The pipeline's detail for a forward whose headers lost their addresses, e.g.
    # "forwarded headers have names only".
    text = detail.lower()
    return "name" in text and "only" in text


# --- unauthenticated_sender: the one notice a forger must not be able to write -------------


def compose_unauthenticated(detail: str, claimed_from: str,
                            claimed_subject: str) -> tuple[str, str]:
    """(subject, body): a fixed subject of our own; what the forged mail claimed appears only
    quoted, marked unverified, and defanged so that no mail client turns it into a link."""
    lines = [
        "A message sent to the touchpoints mailbox used your address as its sender, but the "
        "receiving mail server could not confirm that it came from you, so touchlog did not "
        "log it.",
        "",
        *_claims(claimed_from, claimed_subject, detail),
        "If you did not send it: nothing was logged and you need do nothing. Do not act on "
        "anything the message asked; someone may be trying to impersonate you.",
        "",
        "If you did send it: ask a touchlog admin to check the [trust] settings. authserv_ids "
        "must list your inbound mail server's authserv-id (touchlog check shows the ones seen "
        "in the inbox), and your domain's DKIM, SPF or DMARC must pass for mail you send. Then "
        "send the message again.",
        "",
        "-- \ntouchlog: this notice was sent automatically.",
    ]
    return UNAUTHENTICATED_SUBJECT, "\n".join(lines) + "\n"


def compose_refused_reply(detail: str, claimed_from: str, claimed_subject: str,
                          thread_id: int, account: str) -> tuple[str, str]:
    """(subject, body) for the team member who mailed a thread's copy, when someone who may not
    post in the thread answered it (SPEC 20): the outsider is never answered."""
    lines = [
        f"Someone answered a copy of touchpoint {thread_id} (account {account}) that you "
        "mailed, but they are not a team member, a participant of that thread, or a contact of "
        "the account, so touchlog did not log the reply.",
        "",
        *_claims(claimed_from, claimed_subject, detail),
        "If the reply belongs on the timeline (a customer writing from another address, say): "
        "log it by hand with touchlog failures assign UID --account ACCOUNT --as YOU (touchlog "
        "failures lists the UID); it joins the thread. To let the address post next time, ask "
        "a touchlog admin to add it as a contact of the account.",
        "",
        "-- \ntouchlog: this notice was sent automatically.",
    ]
    return REFUSED_REPLY_SUBJECT, "\n".join(lines) + "\n"


def compose_internal_error(detail: str, claimed_from: str,
                           claimed_subject: str) -> tuple[str, str]:
    """(subject, body) for the admins about a message that broke touchlog: whoever sent it was
    never established, so it is quoted like a forgery."""
    lines = [
        "touchlog ran into an unexpected error on a message several times in a row; the "
        "message is kept, unchanged, in the failed folder, and nothing was logged.",
        "",
        *_claims(claimed_from, claimed_subject, detail),
        "touchlog failures lists it (reason internal_error). Once the problem is fixed, "
        "touchlog failures retry UID tries it again; or log it by hand with touchlog failures "
        "assign UID --account ACCOUNT --as YOU.",
        "",
        "-- \ntouchlog: this notice was sent automatically.",
    ]
    return INTERNAL_ERROR_SUBJECT, "\n".join(lines) + "\n"


def _claims(claimed_from: str, claimed_subject: str, detail: str) -> list[str]:
    """What a message claimed, quoted: read, never followed, never taken for our own words."""
    return ["What the message claimed (unverified, written by whoever sent it; links disabled):",
            f"  > From:    {defang(claimed_from) or '(no sender)'}",
            f"  > Subject: {defang(claimed_subject) or '(no subject)'}",
            "",
            f"What touchlog read: {defang(' '.join(detail.split()))}",
            ""]


_SCHEME = re.compile(r"\b([a-z][a-z0-9+.-]*)://", re.IGNORECASE)
_DOT = re.compile(r"(?<=\w)\.(?=\w)")
_AT = re.compile(r"(?<=\w)@(?=\w)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2060-\u2069]")


def defang(text: str) -> str:
    """`http://evil.example/x` → `hxxp[:]//evil[.]example/x`, `a@b.com` → `a[@]b[.]com`: the
    usual way to quote a hostile address so it can be read but not followed. Control and
    direction-changing characters go too: they could make the quote look like our own text."""
    text = _CONTROL.sub(" ", text)
    if len(text) > MAX_QUOTED_CHARS:
        text = text[:MAX_QUOTED_CHARS] + "…"
    text = _SCHEME.sub(lambda m: m.group(1).replace("t", "x").replace("T", "X") + "[:]//", text)
    text = text.replace("mailto:", "mailto[:]").replace("www.", "www[.]")
    return _AT.sub("[@]", _DOT.sub("[.]", text))
